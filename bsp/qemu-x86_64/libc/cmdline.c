/* cmdline.c - see cmdline.h. */
#include "cmdline.h"

#include <string.h>

int bsp_cmdline_word(const char *cmdline, const char *key, char *buf, size_t size)
{
    size_t klen = strlen(key);
    const char *p = cmdline;

    while (*p != '\0') {
        const char *word = p;
        size_t wlen = 0u;
        while (p[wlen] != '\0' && p[wlen] != ' ') {
            wlen++;
        }
        p += wlen;
        while (*p == ' ') {
            p++;
        }
        if (wlen > klen && word[klen] == '=' && strncmp(word, key, klen) == 0) {
            size_t vlen = wlen - klen - 1u;
            size_t n = vlen < size ? vlen : (size > 0u ? size - 1u : 0u);
            if (size > 0u) {
                memcpy(buf, word + klen + 1u, n);
                buf[n] = '\0';
            }
            return (int)vlen;
        }
    }
    return -1;
}
