; shadows.asm -- single-step traps (EFLAGS.TF) around the instructions that delay them: MOV SS and
; POP SS (the trap of the next instruction boundary is held back one instruction), STI (inhibits
; maskable interrupts only: the single-step trap after it is taken), INT3 with TF set, POPF setting
; and clearing TF. Each trap prints its saved EIP relative to the start of the sequence and DR6.BS.
;
; Follows Intel SDM Vol. 3A 6.8.3 (MOV SS / POP SS inhibit interrupts, debug exceptions and
; single-step traps at the following instruction boundary), Vol. 2B STI (only maskable hardware
; interrupts are held off for one instruction), 17.3.1.4 (single-step: a trap after an instruction
; that began with TF=1; an instruction that sets TF is not followed by a trap; INT n / INT3 clear TF
; on entry so no trap follows them; the handler's IRET restores TF), 17.2.3 (DR6.BS; DR6 bits are
; never cleared by the processor).
; Leaves out: the STI shadow against a real external interrupt (neither runner here has an
; interrupt source the kernel could arm without a platform: PIC/PIT/APIC are another issue),
; back-to-back MOV SS (the SDM leaves it open), data breakpoints.

%include "lib/prologue.inc"

%macro TF_ON 0
        pushfd
        or dword [esp], 0x100
        popfd
%endmacro
%macro TF_OFF 0
        pushfd
        and dword [esp], ~0x100
        popfd
%endmacro
; SEQUENCE "name", label -- start counting traps; EIPs are printed relative to label
%macro SEQUENCE 2
        PRINT {%1, ":"}
        NL
        EXCBASE %2
        mov dword [exc_count], 0
        xor eax, eax
        mov dr6, eax
%endmacro
%macro COUNT 1
        PRINT {%1, "-count:"}
        PVAL "traps", [exc_count]
        NL
%endmacro

kmain:
        mov dword [exc_hook], db_hook

; ---- reference: five plain instructions ----
        SEQUENCE "plain", .p0
        TF_ON
.p0:    nop
        nop
        mov eax, 1
        TF_OFF
        COUNT "plain"

; ---- MOV SS: no trap at the boundary after it; one trap after the next instruction ----
        SEQUENCE "mov-ss", .m0
        mov bx, ss
        TF_ON
.m0:    nop
        mov ss, bx
        nop
        nop
        TF_OFF
        COUNT "mov-ss"

; ---- MOV SS followed by an instruction that moves ESP (the classic MOV SS; MOV ESP pair) ----
        SEQUENCE "mov-ss-mov-esp", .s0
        mov bx, ss
        mov ecx, esp
        TF_ON
.s0:    mov ss, bx
        mov esp, ecx
        nop
        TF_OFF
        COUNT "mov-ss-mov-esp"

; ---- POP SS: same as MOV SS ----
        SEQUENCE "pop-ss", .q0
        push ss
        TF_ON
.q0:    pop ss
        nop
        nop
        TF_OFF
        COUNT "pop-ss"

; ---- MOV to another segment register: no shadow ----
        SEQUENCE "mov-ds", .d0
        mov bx, ds
        TF_ON
.d0:    mov ds, bx
        nop
        TF_OFF
        COUNT "mov-ds"

; ---- STI: the single-step trap is not held back (interrupts are masked at the PICs) ----
        mov al, 0xFF
        out 0x21, al
        out 0xA1, al
        SEQUENCE "sti", .i0
        TF_ON
.i0:    sti
        nop
        cli
        nop
        TF_OFF
        COUNT "sti"

; ---- INT3 with TF: #BP, no single-step trap after INT3, TF back after IRET ----
        SEQUENCE "int3-tf", .b0
        TF_ON
.b0:    int3
        nop
        TF_OFF
        COUNT "int3-tf"

; ---- INT n to a trap-free gate with TF: the handler runs with TF=0 ----
        SETGATE 0x40, int40_isr, GATE_INT0
        SEQUENCE "int-n-tf", .n0
        TF_ON
.n0:    int 0x40
        nop
        TF_OFF
        COUNT "int-n-tf"
        PRINT "int-n-tf-handler:"
        PVAL "eflags.tf", [SCRATCH]
        NL

; ---- POPF setting TF: first trap after the NEXT instruction; POPF clearing TF: trap after it ----
        SEQUENCE "popf", .f0
        pushfd
        or dword [esp], 0x100
.f0:    popfd
        nop
        nop
        pushfd
        and dword [esp], ~0x100
        popfd
        nop
        COUNT "popf"

; ---- IRET setting TF (the frame's EFLAGS has TF): trap after the first instruction at the target ----
        SEQUENCE "iret-sets-tf", .r0
        pushfd
        or dword [esp], 0x100
        push cs
        push dword .r1
.r0:    iretd
.r1:    nop
        nop
        TF_OFF
        COUNT "iret-sets-tf"
        mov dword [exc_hook], 0
        ret

int40_isr:
        pushfd
        pop dword [SCRATCH]
        and dword [SCRATCH], 0x100
        iretd

; #DB hook: DR6.BS (single step), then clear DR6 (the processor never clears it)
db_hook:
        cmp byte [ebp + F_VEC], 1
        jne .ret
        mov eax, dr6
        and eax, 0x4000
        PRINT "  dr6.bs="
        PHEX32 eax
        NL
        xor eax, eax
        mov dr6, eax
.ret:   ret

%include "lib/epilogue.inc"
