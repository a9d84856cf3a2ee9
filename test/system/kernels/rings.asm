; rings.asm -- privilege levels 0 and 3: IRET to ring 3, interrupts from ring 3 (TSS SS0:ESP0 stack
; switch and the ring-0 frame), gate DPL checks for INT n/INT3/INTO, privileged instructions and
; IOPL-sensitive instructions at CPL 3, the TSS I/O permission bitmap, return to ring 0.
;
; Follows Intel SDM Vol. 3A 5.9 (privileged instructions: #GP(0) at CPL > 0), 6.12.1 and
; Figure 6-4 (stack switch on an interrupt from CPL 3: SS, ESP, EFLAGS, CS, EIP pushed on the
; SS0:ESP0 stack), 6.12.1.1 (INT n/INT3/INTO: gate DPL < CPL gives #GP(vector*8+2); exceptions
; skip the check), Vol. 1 19.5 / Vol. 3A 20.5 (IOPL and the I/O permission bitmap; a multi-byte
; access needs every bit clear), Vol. 2A IRET (return to an outer level nulls DS/ES/FS/GS holding a
; data or non-conforming code segment with DPL < new CPL; RPL < CPL gives #GP(selector)), POPF
; (IF changes only if CPL <= IOPL; IOPL only at CPL 0), CLI/STI (#GP(0) if CPL > IOPL).
; Leaves out: rings 1 and 2, virtual-8086 mode, VME/PVI, CR4.UMIP (not on a Pentium-class CPU).
;
; Ring-3 code prints itself through port 0xE9, which the I/O bitmap allows (checked first, from the
; kernel side, before any ring-3 printing).

%include "lib/prologue.inc"

C_CONF0    equ KSEL_FREE + 0x00         ; conforming readable code, DPL 0
UCODE_NP   equ KSEL_FREE + 0x08 | 3     ; code, DPL 3, not present
UCODE_4K   equ KSEL_FREE + 0x18 | 3     ; code, DPL 3, limit 0xFFF
GATE_FRAME equ 0x31                     ; DPL-3 interrupt gate: records its frame
GATE_DPL0  equ 0x32                     ; DPL-0 interrupt gate
POST_PORT  equ 0x80                     ; a port the bitmap denies
frame      equ SCRATCH                  ; 8 dwords recorded by frame_isr

kmain:
        SETDESC C_CONF0, 0, 0xFFFFF, 0x9E, FL_G_D
        SETDESC UCODE_NP, 0, 0xFFFFF, ACC_CODE3 & 0x7F, FL_G_D
        SETDESC UCODE_4K, 0, 0xFFF, ACC_CODE3, FL_D
        SETGATE GATE_FRAME, frame_isr, GATE_INT3
        SETGATE GATE_DPL0, frame_isr, GATE_INT0
        mov dx, DEBUGCON_PORT
        call io_allow                   ; port 0xE9 only; every other port stays denied

; ---- what ring 3 starts with after the kernel's IRET ----
        mov eax, u_regs
        mov ebx, 0x00000000
        call enter_user
        PRINT "ring3-after-iret:"
        PVAL "cs", [user_regs + 0]
        PVAL "ss", [user_regs + 4]
        PVAL "esp", [user_regs + 8]
        PVAL "eflags", [user_regs + 12]
        PVAL "ds", [user_regs + 16]
        NL

; ---- IRET to ring 3 nulls data segment registers the outer level may not use ----
        ; DS = KDATA (data, DPL 0): nulled
        mov ax, UDATA                   ; data, DPL 3: kept
        mov es, ax
        mov ax, KCODE                   ; non-conforming readable code, DPL 0: nulled
        mov fs, ax
        mov ax, C_CONF0                 ; conforming code: kept
        mov gs, ax
        call iret_segs
        PRINT "iret-null-segments:"
        PVAL "ds", eax
        PVAL "es", ecx
        PVAL "fs", edx
        PVAL "gs", esi
        NL

; ---- IRET to ring 3 with a bad frame faults at ring 0, before anything is loaded ----
%macro IRETCHECK 5                      ; name, SS, ESP... CS, EIP
        CHECK %1, %%r
        EXCBASE %%f
        push dword %2
        push dword USTACK_TOP
        push dword 0x2
        push dword %3
        push dword %4
%%f:    iretd
%%r:    add esp, 20                     ; a faulting IRET popped nothing
        ENDCHECK
        %5
%endmacro
        IRETCHECK "iret-ss-rpl-not-cs-rpl",  KDATA,    UCODE,    u_never, {}
        IRETCHECK "iret-ss-null",            0,        UCODE,    u_never, {}
        IRETCHECK "iret-ss-dpl0-rpl3",       KDATA | 3, UCODE,   u_never, {}
        IRETCHECK "iret-ss-code",            UCODE,    UCODE,    u_never, {}
        ; (no check for a not-present SS: the SDM's IRET pseudo-code says #SS(selector), its exception
        ;  list says #NP(selector); Bochs raises #NP. Left out until the SDM agrees with itself.)
        IRETCHECK "iret-cs-data",            UDATA,    UDATA,    u_never, {}
        IRETCHECK "iret-cs-not-present",     UDATA,    UCODE_NP, u_never, {}
        IRETCHECK "iret-eip-beyond-limit",   UDATA,    UCODE_4K, 0x1000,  {}

; ---- INT n from ring 3 through a DPL-3 gate: the frame on the SS0:ESP0 stack ----
        mov eax, u_int_frame
        mov ebx, 0x00000000
        call enter_user
        PRINT "int-from-ring3-frame:"
        PVAL "eip", [frame + 0]
        PVAL "cs", [frame + 4]
        PVAL "eflags", [frame + 8]
        PVAL "esp", [frame + 12]
        PVAL "ss", [frame + 16]
        NL
        PRINT "int-from-ring3-handler:"
        PVAL "esp0", [frame + 20]
        PVAL "ss", [frame + 24]
        PVAL "ds", [frame + 28]
        PVAL "eflags", [frame + 32]
        NL

; ---- the rest runs at ring 3 and prints itself ----
        mov dword [exc_hook], frame_hook
        mov eax, u_checks
        mov ebx, 0x00000000             ; IOPL 0
        call enter_user
        mov eax, cr4
        or eax, 0x4                     ; CR4.TSD: RDTSC is privileged
        mov cr4, eax
        mov eax, u_tsd
        mov ebx, 0
        call enter_user
        mov eax, cr4
        and eax, ~0x4
        mov cr4, eax
        mov dword [exc_hook], 0
        mov eax, u_iopl3
        mov ebx, 0x3000                 ; IOPL 3
        call enter_user
        PRINT "back-in-ring0:"
        mov ax, cs
        PVAL "cs", eax
        mov ax, ss
        PVAL "ss", eax
        NL
        ret

; like enter_user, but IRET with the caller's DS/ES/FS/GS (to see which ones IRET nulls)
iret_segs:
        pushfd
        push ebp
        push ebx
        mov [saved_kesp], esp
        push dword UDATA
        push dword USTACK_TOP
        push dword 0x2
        push dword UCODE
        push dword u_segs
        iretd

; records the hardware frame (EIP relative to the INT), the handler's ESP, SS, DS and EFLAGS
frame_isr:
        push eax
        mov eax, [esp + 4]
        sub eax, u_int_frame.after
        mov [ss:frame + 0], eax
        mov eax, [esp + 8]
        mov [ss:frame + 4], eax
        mov eax, [esp + 12]
        mov [ss:frame + 8], eax
        mov eax, [esp + 16]
        mov [ss:frame + 12], eax
        mov eax, [esp + 20]
        mov [ss:frame + 16], eax
        lea eax, [esp + 4]
        mov [ss:frame + 20], eax        ; ESP after the CPU's pushes
        mov eax, ss
        mov [ss:frame + 24], eax
        mov eax, ds
        mov [ss:frame + 28], eax
        pushfd
        pop eax
        mov [ss:frame + 32], eax
        pop eax
        iretd

; exception hook: the ring-3 SS:ESP and the ring-0 ESP after the CPU's pushes
frame_hook:
        test dword [ebp + F_CS], 3
        jz .ret
        PRINT "  frame:"
        PVAL "ss3", [ebp + F_SS3]
        PVAL "esp3", [ebp + F_ESP3]
        lea eax, [ebp + F_ERR]
        test dword [ebp + F_VEC], 0x100
        jz .witherr
        lea eax, [ebp + F_EIP]
.witherr:
        PVAL "esp0", eax
        NL
.ret:   ret

; ================= ring-3 code =================
u_never:                                ; the IRET checks above never get here
        PRINT "FAIL iret reached ring 3"
        NL
        jmp $

u_regs:
        mov [user_regs + 8], esp
        pushfd
        pop dword [user_regs + 12]
        mov eax, cs
        mov [user_regs + 0], eax
        mov eax, ss
        mov [user_regs + 4], eax
        mov eax, ds
        mov [user_regs + 16], eax
        int USER_EXIT_VEC

u_segs:                                 ; only registers: DS may be null here
        mov eax, ds
        mov ecx, es
        mov edx, fs
        mov esi, gs
        mov bx, UDATA
        mov ds, bx
        int USER_EXIT_VEC

u_int_frame:
        xor eax, eax                    ; ZF=1 PF=1: a known EFLAGS in the frame
        int GATE_FRAME
.after: int USER_EXIT_VEC

; RCHECK "name", instruction -- one ring-3 check that may fault (the resume is armed from ring 3)
%macro RCHECK 2
        CHECK %1, %%r
        EXCBASE %%f
%%f:    %2
%%r:    ENDCHECK
%endmacro

u_checks:
        PRINT "ring3-prints-through-bitmap"
        NL
        mov al, '*'
        RCHECK "out-allowed-port",       {out DEBUGCON_PORT, al}
        RCHECK "out-denied-port",        {out POST_PORT, al}
        RCHECK "in-denied-port",         {in al, POST_PORT}
        mov dx, DEBUGCON_PORT - 1
        RCHECK "out-word-half-denied",   {out dx, ax}
        mov dx, POST_PORT
        RCHECK "outsb-denied",           {outsb}
        RCHECK "hlt",                    hlt
        RCHECK "cli-iopl0",              cli
        RCHECK "sti-iopl0",              sti
        RCHECK "mov-from-cr0",           {mov eax, cr0}
        RCHECK "mov-to-cr0",             {mov cr0, eax}
        RCHECK "mov-to-cr3",             {mov cr3, eax}
        RCHECK "mov-from-cr4",           {mov eax, cr4}
        RCHECK "mov-dr7",                {mov eax, dr7}
        RCHECK "lgdt",                   {lgdt [SCRATCH]}
        RCHECK "lidt",                   {lidt [SCRATCH]}
        RCHECK "lldt",                   {lldt ax}
        RCHECK "ltr",                    {ltr ax}
        RCHECK "lmsw",                   {lmsw ax}
        RCHECK "clts",                   clts
        RCHECK "invlpg",                 {invlpg [SCRATCH]}
        RCHECK "wbinvd",                 wbinvd
        RCHECK "invd",                   invd
        xor ecx, ecx
        RCHECK "rdmsr",                  rdmsr
        RCHECK "wrmsr",                  wrmsr
        RCHECK "rdtsc-tsd0",             rdtsc
        RCHECK "sgdt",                   {sgdt [SCRATCH + 0x100]}
        RCHECK "sidt",                   {sidt [SCRATCH + 0x100]}
        RCHECK "sldt",                   {sldt ax}
        xor eax, eax                    ; STR r16 writes AX only; RDTSC left EAX layout-dependent
        RCHECK "str",                    {str ax}
        PRINT "str-value:"
        PVAL "tr", eax
        NL
        RCHECK "smsw",                   {smsw eax}
        PRINT "smsw-value:"
        and eax, 0xFFFF
        PVAL "msw", eax
        NL
        RCHECK "int-dpl0-gate",          {int GATE_DPL0}
        RCHECK "int3-dpl0-gate",         int3
        mov al, 0x7F
        add al, 1
        RCHECK "into-dpl0-gate",         into
        RCHECK "int-gate-type-zero",     {int 0x40}
        RCHECK "ud2-exception-ignores-dpl", ud2
        xor eax, eax
        RCHECK "div-exception-ignores-dpl", {div eax}
        ; POPF at CPL 3, IOPL 0: IF and IOPL do not change, no fault
        PRINT "popf-iopl0:"
        push dword 0x3202 | 0x8D5       ; IOPL 3, IF, and the arithmetic flags
        popfd
        pushfd
        pop eax
        PVAL "eflags", eax
        NL
        ; IRET to an inner level: #GP(selector)
        pushfd
        push dword KCODE
        push dword .after_iret
        RCHECK "iret-to-ring0",          iretd
        add esp, 12
.after_iret:
        int USER_EXIT_VEC

u_tsd:
        RCHECK "rdtsc-tsd1",             rdtsc
        int USER_EXIT_VEC

u_iopl3:
        PRINT "iopl3:"
        pushfd
        pop eax
        PVAL "eflags", eax
        NL
        RCHECK "iopl3-out-denied-port",  {out POST_PORT, al}
        RCHECK "iopl3-cli",              cli
        PRINT "iopl3-after-cli:"
        pushfd
        pop eax
        PVAL "eflags", eax
        NL
        RCHECK "iopl3-sti",              sti
        PRINT "iopl3-after-sti:"
        pushfd
        pop eax
        PVAL "eflags", eax
        NL
        cli
        PRINT "popf-iopl3:"
        push dword 0x0202                ; IOPL 0, IF: IF changes (CPL <= IOPL), IOPL does not (CPL > 0)
        popfd
        pushfd
        pop eax
        PVAL "eflags", eax
        NL
        RCHECK "iopl3-hlt-still-privileged", hlt
        int USER_EXIT_VEC

%include "lib/epilogue.inc"
