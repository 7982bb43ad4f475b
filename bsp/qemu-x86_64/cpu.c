/*
 * cpu.c - descriptor tables, the central interrupt handler and the fault report.
 *
 * Every vector enters through the kernel port's stubs (kernel/port/x86_64/os_cpu_a.S), which
 * save the full context and move to the interrupt stack; OS_CPU_IntHandler() below is the
 * board's BSP_IntHandler: exceptions go to the fault report, device vectors to their
 * registered ISRs between OSIntEnter() and OSIntExit().
 */
#include <stdbool.h>

#include "bsp_priv.h"
#include "ucos_ii.h"

#define IDT_GATE_INT64 0x8Eu /* present, DPL 0, 64-bit interrupt gate (IF cleared on entry) */
/* TSS IST slot for #DF/NMI/#MC: a known-good stack even when the fault came from a blown
 * task stack. */
#define IST_FAULT     1u
#define INT_STK_FILL  0xC5C5C5C5C5C5C5C5uL
#define ISRS_PER_VECT 4u
#define INT_STK_WORDS 2048u /* 16 KiB interrupt stack */
#define IST_STK_WORDS 1024u

struct idt_gate {
    uint16_t off_lo;
    uint16_t sel;
    uint8_t ist;
    uint8_t type;
    uint16_t off_mid;
    uint32_t off_hi;
    uint32_t zero;
};
_Static_assert(sizeof(struct idt_gate) == 16u, "SDM vol. 3 fig. 6-8");

struct tss64 {
    uint32_t rsvd0;
    uint64_t rsp[3];
    uint64_t rsvd1;
    uint64_t ist[7];
    uint64_t rsvd2;
    uint16_t rsvd3;
    uint16_t iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct tss64) == 104u, "SDM vol. 3 fig. 8-11");

struct desc_ptr {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

struct vect_isr {
    bsp_isr_t fn;
    void *arg;
};

extern uint64_t bsp_gdt[6];

static struct idt_gate idt[256] __attribute__((aligned(16)));
static struct tss64 tss __attribute__((aligned(16)));
static OS_STK int_stk[INT_STK_WORDS] __attribute__((aligned(16)));
static OS_STK ist_stk[IST_STK_WORDS] __attribute__((aligned(16)));
static struct vect_isr vect_isrs[256][ISRS_PER_VECT];
static uint32_t vect_count[256];
static uint8_t vect_used[256];

static const char *const exc_names[32] = {"#DE divide error",
                                          "#DB debug",
                                          "NMI",
                                          "#BP breakpoint",
                                          "#OF overflow",
                                          "#BR bound range",
                                          "#UD invalid opcode",
                                          "#NM device not available",
                                          "#DF double fault",
                                          "coprocessor overrun",
                                          "#TS invalid TSS",
                                          "#NP segment not present",
                                          "#SS stack fault",
                                          "#GP general protection",
                                          "#PF page fault",
                                          "reserved",
                                          "#MF x87 error",
                                          "#AC alignment check",
                                          "#MC machine check",
                                          "#XM SIMD error",
                                          "#VE virtualization",
                                          "#CP control protection",
                                          "reserved",
                                          "reserved",
                                          "reserved",
                                          "reserved",
                                          "reserved",
                                          "reserved",
                                          "#HV",
                                          "#VC",
                                          "#SX security",
                                          "reserved"};

static void idt_set(uint8_t v, uint8_t ist)
{
    uint64_t a = (uint64_t)(uintptr_t)(OS_CPU_IntStubs + (uint32_t)v * OS_CPU_INT_STUB_SIZE);

    idt[v].off_lo = (uint16_t)a;
    idt[v].sel = OS_CPU_SEL_CODE;
    idt[v].ist = ist;
    idt[v].type = IDT_GATE_INT64;
    idt[v].off_mid = (uint16_t)(a >> 16);
    idt[v].off_hi = (uint32_t)(a >> 32);
    idt[v].zero = 0u;
}

void bsp_cpu_init(void)
{
    struct desc_ptr gdtr, idtr;
    uint64_t base = (uint64_t)(uintptr_t)&tss;
    uint64_t limit = sizeof tss - 1u;
    unsigned v;

    /* Available 64-bit TSS descriptor (type 9) at selector 0x20, 16 bytes. */
    tss.ist[IST_FAULT - 1u] = (uint64_t)(uintptr_t)&ist_stk[IST_STK_WORDS];
    tss.iomap_base = sizeof tss; /* no I/O bitmap */
    bsp_gdt[4] = (limit & 0xFFFFu) | ((base & 0xFFFFFFu) << 16) | (0x89uL << 40) |
                 (((limit >> 16) & 0xFu) << 48) | (((base >> 24) & 0xFFu) << 56);
    bsp_gdt[5] = base >> 32;
    gdtr.limit = 6u * 8u - 1u;
    gdtr.base = (uint64_t)(uintptr_t)bsp_gdt;
    __asm__ volatile("lgdt %0" : : "m"(gdtr));
    __asm__ volatile("ltr %w0" : : "r"(0x20u));

    for (v = 0u; v < 256u; v++) {
        idt_set((uint8_t)v, (v == 2u || v == 8u || v == 18u) ? IST_FAULT : 0u);
    }
    idtr.limit = sizeof idt - 1u;
    idtr.base = (uint64_t)(uintptr_t)idt;
    __asm__ volatile("lidt %0" : : "m"(idtr));

    /* Pattern-fill for bsp_int_stk_used(): zero would be indistinguishable from saved zero
     * registers, which are common in frames. */
    for (v = 0u; v < INT_STK_WORDS; v++) {
        int_stk[v] = INT_STK_FILL;
    }
    OS_CPU_IntStkTop = &int_stk[INT_STK_WORDS];
    for (v = 0u; v < 32u; v++) {
        vect_used[v] = 1u;
    }
    vect_used[OS_CPU_VECT_CTXSW] = 1u;
    vect_used[BSP_VECT_SPURIOUS] = 1u;
}

int bsp_int_vect_set(uint8_t vector, bsp_isr_t isr, void *arg)
{
    uint64_t f;
    unsigned i;

    if (vector < 32u || vector == OS_CPU_VECT_CTXSW || vector == BSP_VECT_SPURIOUS || isr == NULL) {
        return BSP_E_INVAL;
    }
    f = bsp_irq_save();
    for (i = 0u; i < ISRS_PER_VECT; i++) {
        /* vector is a uint8_t, so it is always < 256 = the table's size; cppcheck assumes
         * the < 32 test above means it could reach 256. */
        /* cppcheck-suppress arrayIndexOutOfBoundsCond */
        if (vect_isrs[vector][i].fn == NULL) {
            vect_isrs[vector][i].arg = arg;
            vect_isrs[vector][i].fn = isr;
            vect_used[vector] = 1u;
            bsp_irq_restore(f);
            return BSP_OK;
        }
    }
    bsp_irq_restore(f);
    return BSP_E_BUSY;
}

int bsp_int_vect_clr(uint8_t vector, bsp_isr_t isr, void *arg)
{
    uint64_t f = bsp_irq_save();
    unsigned i;

    for (i = 0u; i < ISRS_PER_VECT; i++) {
        if (vect_isrs[vector][i].fn == isr && vect_isrs[vector][i].arg == arg) {
            vect_isrs[vector][i].fn = NULL;
            vect_isrs[vector][i].arg = NULL;
            bsp_irq_restore(f);
            return BSP_OK;
        }
    }
    bsp_irq_restore(f);
    return BSP_E_INVAL;
}

int bsp_vector_alloc(void)
{
    uint64_t f = bsp_irq_save();
    unsigned v;

    for (v = BSP_VECT_DYN_LO; v <= BSP_VECT_DYN_HI; v++) {
        if (!vect_used[v]) {
            vect_used[v] = 1u;
            bsp_irq_restore(f);
            return (int)v;
        }
    }
    bsp_irq_restore(f);
    return BSP_E_NOSPACE;
}

void bsp_int_stk_usage(uint32_t *used, uint32_t *size)
{
    uint32_t i = 0u;

    while (i < INT_STK_WORDS && int_stk[i] == INT_STK_FILL) {
        i++;
    }
    *used = (uint32_t)((INT_STK_WORDS - i) * sizeof(OS_STK));
    *size = (uint32_t)sizeof int_stk;
}

uint32_t bsp_int_count(uint8_t vector)
{
    return vect_count[vector];
}

/*
 * Sampling profiler (bench only: BSP_PROF_SAMPLES > 0, cmake VNET_PROF_SAMPLES). The tick
 * interrupt records where it interrupted; code running with interrupts off (ISRs, critical
 * sections) is never sampled, its time lands on the instruction after it re-enables them.
 * Each sample is two words: the RIP and the word on top of the interrupted stack, which is
 * the caller's return address when the RIP is the `ret` of a leaf that pushed nothing
 * (OS_CPU_SR_Restore: so a critical section's time can be charged to its caller).
 */
#if BSP_PROF_SAMPLES > 0
static uint64_t prof_rip[2u * BSP_PROF_SAMPLES];
static volatile uint32_t prof_n;
static volatile bool prof_on;
#endif

void bsp_prof_start(void)
{
#if BSP_PROF_SAMPLES > 0
    prof_on = false;
    prof_n = 0u;
    prof_on = true;
#endif
}

uint32_t bsp_prof_stop(const uint64_t **rips)
{
#if BSP_PROF_SAMPLES > 0
    prof_on = false;
    *rips = prof_rip;
    return prof_n;
#else
    *rips = NULL;
    return 0u;
#endif
}

/*
 * Central handler. Interrupts stay disabled throughout (interrupt gates; the kernel's critical
 * sections restore IF=0 here), so device interrupts do not nest: with the LAPIC's priority
 * classes and the short ISRs the driver contract demands, nesting would buy little.
 * EOI goes out before OSIntExit(): if the kernel switches, the stub resumes another task and
 * the LAPIC must not be left with the in-service bit set until this task runs again.
 */
void OS_CPU_IntHandler(OS_CPU_FRAME *frame)
{
    uint8_t v = (uint8_t)frame->vector;
    unsigned i;

    vect_count[v]++;
#if BSP_PROF_SAMPLES > 0
    if (v == BSP_VECT_TICK && prof_on && prof_n < BSP_PROF_SAMPLES) {
        prof_rip[2u * prof_n] = frame->rip;
        prof_rip[2u * prof_n + 1u] = *(const uint64_t *)(uintptr_t)frame->rsp;
        prof_n++;
    }
#endif
    if (v < 32u) {
        bsp_fault_report(frame);
    }
    if (v == BSP_VECT_SPURIOUS || (v >= 0xE0u && v <= 0xEFu)) {
        return; /* LAPIC spurious / masked 8259's spurious IRQ7/15: no EOI (SDM 10.9) */
    }
    OSIntEnter();
    for (i = 0u; i < ISRS_PER_VECT; i++) {
        if (vect_isrs[v][i].fn != NULL) {
            vect_isrs[v][i].fn(vect_isrs[v][i].arg);
        }
    }
    bsp_lapic_eoi();
    OSIntExit();
}

static uint64_t read_cr2(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}

static uint64_t read_cr3(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr3, %0" : "=r"(v));
    return v;
}

/* Frame-pointer walk, bounded and limited to identity-mapped RAM below the image end + 256 MiB
 * so a corrupt chain cannot fault again inside the report. */
static void backtrace(uint64_t rbp)
{
    unsigned depth;

    bsp_printf("FAULT backtrace:");
    for (depth = 0u; depth < 16u; depth++) {
        const uint64_t *fp = (const uint64_t *)(uintptr_t)rbp;
        if (rbp == 0u || (rbp & 7u) != 0u || rbp < 0x1000u || rbp >= 0x40000000u) {
            break;
        }
        bsp_printf(" %lx", fp[1]);
        rbp = fp[0];
    }
    bsp_printf("\n");
}

void bsp_fault_report(const void *frame_v)
{
    const OS_CPU_FRAME *f = frame_v;
    uint8_t v = (uint8_t)f->vector;

    /* Machine-checkable first line, then details. */
    bsp_printf("\nFAULT vector=%u (%s) error=0x%lx rip=0x%lx rsp=0x%lx cr2=0x%lx\n", (unsigned)v,
               exc_names[v & 31u], f->error, f->rip, f->rsp, read_cr2());
    if (OSRunning) {
        bsp_printf("FAULT task prio=%u name=%s ctxsw=%u int_depth=%u os_int_nesting=%u\n",
                   (unsigned)OSPrioCur,
                   (OSTCBCur != NULL && OSTCBCur->OSTCBTaskName != NULL)
                       ? (const char *)OSTCBCur->OSTCBTaskName
                       : "?",
                   (unsigned)OSCtxSwCtr, (unsigned)OS_CPU_IntDepth, (unsigned)OSIntNesting);
    } else {
        bsp_printf("FAULT before OSStart (no task)\n");
    }
    bsp_printf("FAULT rax=%016lx rbx=%016lx rcx=%016lx rdx=%016lx\n", f->rax, f->rbx, f->rcx,
               f->rdx);
    bsp_printf("FAULT rsi=%016lx rdi=%016lx rbp=%016lx r8 =%016lx\n", f->rsi, f->rdi, f->rbp,
               f->r8);
    bsp_printf("FAULT r9 =%016lx r10=%016lx r11=%016lx r12=%016lx\n", f->r9, f->r10, f->r11,
               f->r12);
    bsp_printf("FAULT r13=%016lx r14=%016lx r15=%016lx\n", f->r13, f->r14, f->r15);
    bsp_printf("FAULT cs=0x%lx ss=0x%lx rflags=0x%lx cr3=0x%lx\n", f->cs, f->ss, f->rflags,
               read_cr3());
    if (v == 14u) {
        bsp_printf("FAULT page fault: %s %s%s\n", (f->error & 1u) ? "protection" : "not-present",
                   (f->error & 2u) ? "write" : "read", (f->error & 16u) ? " ifetch" : "");
    }
    backtrace(f->rbp);
    bsp_printf("FAULT halted\n");
    bsp_exit(BSP_EXIT_FAULT);
}
