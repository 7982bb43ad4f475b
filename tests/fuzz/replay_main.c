/*
 * Replay driver for the fuzz harnesses in ordinary (non-libFuzzer) builds, so every host
 * build runs each harness: with file arguments it replays those inputs (e.g. a crash-*
 * file from a fuzzing run); without, it runs a fixed set of generated inputs — random
 * scripts of several lengths plus a few structured ones — and reports how many ran.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t replay_rng = 0x2545F491u;

static uint32_t replay_next(void)
{
    replay_rng ^= replay_rng << 13;
    replay_rng ^= replay_rng >> 17;
    replay_rng ^= replay_rng << 5;
    return replay_rng;
}

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    long n;

    if (f == NULL) {
        perror(path);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(buf);
        return 1;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, (size_t)n);
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    static uint8_t buf[8192];
    unsigned runs = 0;

    if (argc > 1) {
        for (int i = 1; i < argc; i++)
            if (replay_file(argv[i]) != 0)
                return 1;
        printf("replayed %d input(s)\n", argc - 1);
        return 0;
    }
    LLVMFuzzerTestOneInput(NULL, 0);
    runs++;
    for (unsigned i = 0; i < 3000; i++) {
        size_t len = 1 + replay_next() % (i < 2000 ? 256u : sizeof(buf));

        for (size_t k = 0; k < len; k++)
            buf[k] = (uint8_t)replay_next();
        LLVMFuzzerTestOneInput(buf, len);
        runs++;
    }
    /* Structured: many adds and kicks, then an honest-looking device, then garbage. */
    for (unsigned hdr = 0; hdr < 256; hdr += 17) {
        size_t len = 0;

        buf[len++] = (uint8_t)hdr;
        for (unsigned k = 0; k < 200 && len + 8 < sizeof(buf); k++) {
            buf[len++] = (uint8_t)(k % 3 == 0 ? 0 : k % 3 == 1 ? 1 : 4);
            if (k % 7 == 0) {
                buf[len++] = 2;
                buf[len++] = (uint8_t)k;
                buf[len++] = 0;
                buf[len++] = (uint8_t)(k % 5);
                buf[len++] = 0;
                buf[len++] = 10;
                buf[len++] = 0;
                buf[len++] = 3 | (1 << 3);
            }
        }
        LLVMFuzzerTestOneInput(buf, len);
        runs++;
    }
    printf("ran %u generated inputs\n", runs);
    return 0;
}
