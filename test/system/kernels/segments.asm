; segments.asm -- protected-mode segmentation checks: limit violations, selector-load checks,
; accessed bits, LAR/LSL/VERR/VERW/ARPL, writes through read-only and code segments.
;
; Follows Intel SDM Vol. 3A 3.4.5 (descriptor fields, Table 3-1 types), 5.3 (limit checking:
; expand-up, expand-down, G and B bits), 5.4-5.8 (type and privilege checks when loading segment
; registers), 5.10.1 / Vol. 2A-2B MOV, POP, LDS/LES/LFS/LGS/LSS, JMP, LAR, LSL, VERR, VERW, ARPL
; (which selector/descriptor raises #GP(sel), #NP(sel), #SS(sel) or #GP(0); what LAR/LSL return).
; Error codes carry the selector index and TI; the RPL bits are not part of them (SDM 6.13).
; Leaves out: 16-bit code segments, conforming-code privilege rules beyond one JMP, task gates.
;
; Each check prints "name: " then the handler's "EXC vv err=..." line or "no exception".

%include "lib/prologue.inc"

D_BYTE     equ KSEL_FREE + 0x00   ; data RW, base 0x20000, limit 0xFFF, G=0
D_PAGE     equ KSEL_FREE + 0x08   ; data RW, base 0x20000, limit 1, G=1 (0x1FFF)
D_ED32     equ KSEL_FREE + 0x10   ; data RW expand-down, base 0x20000, limit 0xFFF, B=1
D_ED16     equ KSEL_FREE + 0x18   ; data RW expand-down, base 0x20000, limit 0xFFF, B=0
D_EDG      equ KSEL_FREE + 0x20   ; data RW expand-down, base 0x20000, limit 0, G=1 B=1
D_RO       equ KSEL_FREE + 0x28   ; data read-only, flat
C_XO       equ KSEL_FREE + 0x30   ; code execute-only, flat, DPL 0
C_CONF3    equ KSEL_FREE + 0x38   ; code conforming readable, flat, DPL 3
D_NP       equ KSEL_FREE + 0x40   ; data RW, not present
S_UP       equ KSEL_FREE + 0x48   ; data RW, base 0, limit 0x8FFFF, G=0 (stack, expand-up)
S_DOWN     equ KSEL_FREE + 0x50   ; data RW expand-down, base 0, limit 0x1FFFF, B=1 (stack)
LDT_DESC   equ KSEL_FREE + 0x58   ; LDT with 3 entries at SCRATCH + 0x1000
CALLGATE   equ KSEL_FREE + 0x60   ; 32-bit call gate, DPL 0
D_16       equ KSEL_FREE + 0x68   ; data RW, base 0, limit 0xFFFF, G=0, B=0
D_ACC      equ KSEL_FREE + 0x70   ; data RW, accessed bit clear (for the accessed-bit checks)
C_ACC      equ KSEL_FREE + 0x78   ; code, accessed bit clear
D_ACC_SS   equ KSEL_FREE + 0x80   ; data RW, accessed bit clear (loaded into SS)
INTGATE    equ KSEL_FREE + 0x88   ; an interrupt gate in the GDT (not valid for LAR)
TSS16      equ KSEL_FREE + 0x90   ; 16-bit available TSS (type 1)
D_DPL3     equ KSEL_FREE + 0x98   ; data RW, DPL 3, flat
D_RO_NP    equ KSEL_FREE + 0xA0   ; data read-only, not present
D_DPL1     equ KSEL_FREE + 0xA8   ; data RW, DPL 1, flat
LDT_BASE   equ SCRATCH + 0x1000
DATA       equ SCRATCH + 0x2000   ; far pointers for LDS/LSS

kmain:
        SETDESC D_BYTE,   0x20000, 0xFFF,   ACC_DATA0, FL_D
        SETDESC D_PAGE,   0x20000, 0x1,     ACC_DATA0, FL_G_D
        SETDESC D_ED32,   0x20000, 0xFFF,   0x96, FL_D
        SETDESC D_ED16,   0x20000, 0xFFF,   0x96, 0
        SETDESC D_EDG,    0x20000, 0x0,     0x96, FL_G_D
        SETDESC D_RO,     0,       0xFFFFF, 0x90, FL_G_D
        SETDESC C_XO,     0,       0xFFFFF, 0x98, FL_G_D
        SETDESC C_CONF3,  0,       0xFFFFF, 0xFE, FL_G_D
        SETDESC D_NP,     0,       0xFFFFF, 0x12, FL_G_D
        SETDESC S_UP,     0,       0x8FFFF, ACC_DATA0, FL_D
        SETDESC S_DOWN,   0,       0x1FFFF, 0x96, FL_D
        SETDESC LDT_DESC, LDT_BASE, 0x17,   0x82, 0
        SETDESC D_16,     0,       0xFFFF,  ACC_DATA0, 0
        SETDESC D_ACC,    0,       0xFFFFF, ACC_DATA0, FL_G_D
        SETDESC C_ACC,    0,       0xFFFFF, ACC_CODE0, FL_G_D
        SETDESC D_ACC_SS, 0,       0xFFFFF, ACC_DATA0, FL_G_D
        SETDESC TSS16,    TSS_BASE, 0x2B,   0x81, 0
        SETDESC D_DPL3,   0,       0xFFFFF, ACC_DATA3, FL_G_D
        SETDESC D_RO_NP,  0,       0xFFFFF, 0x10, FL_G_D
        SETDESC D_DPL1,   0,       0xFFFFF, 0xB2, FL_G_D
        ; call gate to .gate_target (SDM 5.8.3 Figure 5-8), parameter count 0
        mov eax, .gate_target
        mov [GDT_BASE + CALLGATE], ax
        mov word [GDT_BASE + CALLGATE + 2], KCODE
        mov word [GDT_BASE + CALLGATE + 4], 0x8C00
        shr eax, 16
        mov [GDT_BASE + CALLGATE + 6], ax
        ; interrupt gate in the GDT
        mov dword [GDT_BASE + INTGATE], (KCODE << 16)
        mov dword [GDT_BASE + INTGATE + 4], 0x8E00
        ; the LDT: 0x04 flat data, 0x0C not present data, 0x14 code execute-only; limit 0x17
        mov dword [LDT_BASE + 0], DESC_LO(0, 0xFFFFF)
        mov dword [LDT_BASE + 4], DESC_HI(0, 0xFFFFF, ACC_DATA0, FL_G_D)
        mov dword [LDT_BASE + 8], DESC_LO(0, 0xFFFFF)
        mov dword [LDT_BASE + 12], DESC_HI(0, 0xFFFFF, 0x12, FL_G_D)
        mov dword [LDT_BASE + 16], DESC_LO(0, 0xFFFFF)
        mov dword [LDT_BASE + 20], DESC_HI(0, 0xFFFFF, 0x98, FL_G_D)

; ---------------- limit checks through DS: #GP(0) ----------------
%macro DSCHECK 3                        ; name, selector, instruction
        CHECK %1, %%r
        EXCBASE %%f
        mov ax, %2
        mov ds, ax
%%f:    %3
%%r:    push dword KDATA
        pop ds
        ENDCHECK
%endmacro
        DSCHECK "ds-byte-last-dword",        D_BYTE, {mov eax, [0xFFC]}
        DSCHECK "ds-byte-dword-crosses",     D_BYTE, {mov eax, [0xFFD]}
        DSCHECK "ds-byte-last-byte",         D_BYTE, {mov al, [0xFFF]}
        DSCHECK "ds-byte-past-limit",        D_BYTE, {mov al, [0x1000]}
        DSCHECK "ds-byte-write-past-limit",  D_BYTE, {mov word [0xFFF], ax}
        DSCHECK "ds-4k-last-byte",           D_PAGE, {mov al, [0x1FFF]}
        DSCHECK "ds-4k-past-limit",          D_PAGE, {mov al, [0x2000]}
        DSCHECK "ds-4k-dword-crosses",       D_PAGE, {mov eax, [0x1FFE]}
        DSCHECK "ds-ed32-at-limit",          D_ED32, {mov al, [0xFFF]}
        DSCHECK "ds-ed32-limit-plus-1",      D_ED32, {mov al, [0x1000]}
        DSCHECK "ds-ed32-dword-from-limit",  D_ED32, {mov eax, [0xFFE]}
        DSCHECK "ds-ed32-top",               D_ED32, {mov eax, [0xFFFFFFFC]}
        DSCHECK "ds-ed32-zero",              D_ED32, {mov al, [0]}
        DSCHECK "ds-ed16-top-dword",         D_ED16, {mov eax, [0xFFFC]}
        DSCHECK "ds-ed16-dword-crosses-ffff", D_ED16, {mov eax, [0xFFFE]}
        DSCHECK "ds-ed16-above-ffff",        D_ED16, {mov al, [0x10000]}
        DSCHECK "ds-ed16-limit-plus-1",      D_ED16, {mov al, [0x1000]}
        DSCHECK "ds-edg-at-scaled-limit",    D_EDG,  {mov al, [0xFFF]}
        DSCHECK "ds-edg-scaled-limit-plus-1", D_EDG, {mov al, [0x1000]}
        DSCHECK "ds-16bit-past-ffff",        D_16,   {mov al, [0x10000]}
        DSCHECK "ds-null-access",            0,      {mov al, [0]}
        DSCHECK "ds-read-only-write",        D_RO,   {mov [SCRATCH], al}
        DSCHECK "ds-read-only-read",         D_RO,   {mov al, [SCRATCH]}

; ---------------- limit checks through SS: #SS(0) ----------------
%macro SSCHECK 4                        ; name, selector, EBP, instruction
        CHECK %1, %%r
        EXCBASE %%f
        mov ax, %2
        mov ss, ax                      ; ESP (just below 0x90000) stays valid in both stacks
        mov ebp, %3
%%f:    %4
%%r:    push dword KDATA
        pop ss
        ENDCHECK
%endmacro
        SSCHECK "ss-up-last-dword",       S_UP,   0x8FFFC, {mov eax, [ebp]}
        SSCHECK "ss-up-crosses-limit",    S_UP,   0x8FFFE, {mov eax, [ebp]}
        SSCHECK "ss-up-past-limit-write", S_UP,   0x90000, {mov [ebp], al}
        SSCHECK "ss-down-limit-plus-1",   S_DOWN, 0x20000, {mov eax, [ebp]}
        SSCHECK "ss-down-at-limit",       S_DOWN, 0x1FFFF, {mov al, [ebp]}
        SSCHECK "ss-down-crosses-limit",  S_DOWN, 0x1FFFE, {mov eax, [ebp + 1]}
        SSCHECK "ss-esp-based-past-limit", S_UP,  0,       {mov eax, [esp + 0x10000]}

; ---------------- loading segment registers (SDM 5.5-5.8, MOV/POP/LxS) ----------------
%macro LOADCHECK 3                      ; name, segment register, selector
        CHECK %1, %%r
        EXCBASE %%f
        mov ax, %3
%%f:    mov %2, ax
%%r:    push dword KDATA
        pop %2
        ENDCHECK
%endmacro
        LOADCHECK "load-ds-null",              ds, 0
        LOADCHECK "load-ds-null-rpl3",         ds, 3
        LOADCHECK "load-ss-null",              ss, 0
        LOADCHECK "load-ds-beyond-gdt",        ds, GDT_ENTRIES * 8
        LOADCHECK "load-ds-beyond-gdt-rpl3",   ds, GDT_ENTRIES * 8 + 3
        LOADCHECK "load-es-ldt-no-ldtr",       es, 0x04
        LOADCHECK "load-ds-tss",               ds, TSS_SEL
        LOADCHECK "load-ds-ldt-descriptor",    ds, LDT_DESC
        LOADCHECK "load-ds-call-gate",         ds, CALLGATE
        LOADCHECK "load-ds-exec-only-code",    ds, C_XO
        LOADCHECK "load-ds-readable-code",     ds, KCODE
        LOADCHECK "load-ds-conforming-dpl3",   ds, C_CONF3
        LOADCHECK "load-ds-dpl0-rpl3",         ds, KDATA | 3
        LOADCHECK "load-ds-dpl1-rpl2",         ds, D_DPL1 | 2
        LOADCHECK "load-ds-dpl1-rpl1",         ds, D_DPL1 | 1
        LOADCHECK "load-ds-dpl3-rpl0",         ds, D_DPL3
        LOADCHECK "load-ds-not-present",       ds, D_NP
        LOADCHECK "load-fs-not-present-rpl3",  fs, D_NP | 3
        LOADCHECK "load-ds-ro-not-present",    ds, D_RO_NP
        LOADCHECK "load-ss-read-only",         ss, D_RO
        LOADCHECK "load-ss-code",              ss, KCODE
        LOADCHECK "load-ss-dpl3-rpl3",         ss, D_DPL3 | 3
        LOADCHECK "load-ss-dpl3-rpl0",         ss, D_DPL3
        LOADCHECK "load-ss-dpl0-rpl3",         ss, KDATA | 3
        LOADCHECK "load-ss-not-present",       ss, D_NP
        LOADCHECK "load-ss-ro-not-present",    ss, D_RO_NP
        LOADCHECK "load-ss-tss",               ss, TSS_SEL
        LOADCHECK "load-gs-expand-down",       gs, D_ED32

        ; with an LDT: index 0 is usable, the limit is checked, P is checked
        mov ax, LDT_DESC
        lldt ax
        LOADCHECK "ldt-load-ds-entry0",        ds, 0x04
        LOADCHECK "ldt-load-ds-not-present",   ds, 0x0C
        LOADCHECK "ldt-load-ds-exec-only",     ds, 0x14
        LOADCHECK "ldt-load-ds-beyond-limit",  ds, 0x1C
        LOADCHECK "ldt-load-ss-entry0",        ss, 0x04
        CHECK "lldt-tss-descriptor", .lldt1r
        EXCBASE .lldt1
        mov ax, TSS_SEL
.lldt1: lldt ax
.lldt1r: ENDCHECK
        xor eax, eax
        lldt ax

        ; POP and LDS/LSS go through the same checks
        CHECK "pop-ss-null", .pop1r
        EXCBASE .pop1
        push dword 0
.pop1:  pop ss
.pop1r: add esp, 4
        ENDCHECK
        CHECK "pop-ds-not-present", .pop2r
        EXCBASE .pop2
        push dword D_NP
.pop2:  pop ds
.pop2r: add esp, 4
        push dword KDATA
        pop ds
        ENDCHECK
        mov dword [DATA], 0x1234
        mov word [DATA + 4], D_NP
        CHECK "lds-not-present", .lds1r
        EXCBASE .lds1
        mov ebx, 0xAAAA
.lds1:  lds ebx, [DATA]
.lds1r: ENDCHECK
        PRINT "lds-not-present-ebx:"
        PVAL "ebx", ebx
        NL
        mov word [DATA + 4], D_RO
        CHECK "lss-read-only", .lss1r
        EXCBASE .lss1
.lss1:  lss ebx, [DATA]
.lss1r: ENDCHECK
        mov word [DATA + 4], D_BYTE
        CHECK "les-valid", .les1r
        mov ebx, 0
        les ebx, [DATA]
        mov ax, es
        PRINT "es="
        PHEX16 ax
        PVAL "ebx", ebx
        PRINT " "
.les1r: ENDCHECK
        push dword KDATA
        pop es

        ; far JMP privilege checks (SDM 5.8.1, JMP)
        CHECK "jmp-nonconforming-rpl3", .jmp1r
        EXCBASE .jmp1
.jmp1:  jmp (KCODE | 3):.jmp1r
.jmp1r: ENDCHECK
        CHECK "jmp-dpl3-code", .jmp2r
        EXCBASE .jmp2
.jmp2:  jmp UCODE:.jmp2r
.jmp2r: ENDCHECK
        CHECK "jmp-conforming-dpl3", .jmp3r
        EXCBASE .jmp3
.jmp3:  jmp C_CONF3:.jmp3r
.jmp3r: ENDCHECK
        CHECK "jmp-data-segment", .jmp4r
        EXCBASE .jmp4
.jmp4:  jmp KDATA:.jmp4r
.jmp4r: ENDCHECK
        CHECK "jmp-null", .jmp5r
        EXCBASE .jmp5
.jmp5:  jmp 0:.jmp5r
.jmp5r: ENDCHECK
        CHECK "jmp-exec-only-then-back", .jmp6r
        jmp C_XO:.jmp6
.jmp6:  mov ax, cs
        jmp KCODE:.jmp6b
.jmp6b: PRINT "cs="
        PHEX16 ax
        PRINT " "
.jmp6r: ENDCHECK

; ---------------- accessed bits (SDM 3.4.5.1) ----------------
        PRINT "accessed-data:"
        PVAL "before", [GDT_BASE + D_ACC + 4]
        mov ax, D_ACC
        mov es, ax
        PVAL "after-mov-es", [GDT_BASE + D_ACC + 4]
        push dword KDATA
        pop es
        NL
        PRINT "accessed-ss:"
        PVAL "before", [GDT_BASE + D_ACC_SS + 4]
        mov ax, D_ACC_SS
        mov ss, ax
        PVAL "after-mov-ss", [GDT_BASE + D_ACC_SS + 4]
        push dword KDATA
        pop ss
        NL
        PRINT "accessed-code:"
        PVAL "before", [GDT_BASE + C_ACC + 4]
        jmp C_ACC:.acc1
.acc1:  jmp KCODE:.acc2
.acc2:  PVAL "after-jmp", [GDT_BASE + C_ACC + 4]
        NL
        PRINT "accessed-not-set-by-lar-lsl-verr:"
        and byte [GDT_BASE + D_ACC + 5], 0xFE
        mov ax, D_ACC
        lar ecx, ax
        lsl ecx, ax
        verr ax
        verw ax
        PVAL "after", [GDT_BASE + D_ACC + 4]
        NL
        PRINT "accessed-failed-load:"
        and byte [GDT_BASE + D_ACC + 5], 0xFE
        or byte [GDT_BASE + D_ACC + 5], 0x60     ; DPL 3 ... loading into SS at CPL 0 fails
        mov dword [exc_quiet], 1
        EXPECT .acc3
        mov ax, D_ACC
        mov ss, ax
.acc3:  mov dword [exc_quiet], 0
        PVAL "vec", [exc_last_vec]
        PVAL "after", [GDT_BASE + D_ACC + 4]
        NL
        PRINT "tss-busy-after-ltr:"
        PVAL "hi", [GDT_BASE + TSS_SEL + 4]
        NL

; ---------------- writes through a code segment (CS override) ----------------
        CHECK "cs-override-read", .cs1r
        mov eax, [cs:SCRATCH]
.cs1r:  ENDCHECK
        CHECK "cs-override-write", .cs2r
        EXCBASE .cs2
.cs2:   mov [cs:SCRATCH], eax
.cs2r:  ENDCHECK
        CHECK "exec-only-cs-read", .cs3r
        EXCBASE .cs3
        jmp C_XO:.cs3
.cs3:   mov eax, [cs:SCRATCH]
.cs3r:  jmp KCODE:.cs3b
.cs3b:  ENDCHECK
        CHECK "ds-readable-code-write", .cs4r
        EXCBASE .cs4
        mov ax, KCODE                   ; readable code in DS: reads allowed, writes not
        mov ds, ax
        mov eax, [SCRATCH]
.cs4:   mov [SCRATCH], eax
.cs4r:  push dword KDATA
        pop ds
        ENDCHECK

; ---------------- LAR / LSL / VERR / VERW over a table of selectors ----------------
        mov ax, LDT_DESC
        lldt ax
        mov esi, sel_table
.lar:   movzx ebx, word [esi]
        cmp bx, 0xFFFF
        je .lar_done
        PRINT "lar-lsl sel="
        PHEX16 bx
        mov eax, 0xDEADBEEF
        lar eax, bx
        setz cl
        jnz .lar_fail
        and eax, 0xFFF0FFFF             ; bits 19:16 are undefined (SDM Vol. 2A LAR)
.lar_fail:
        PVAL "lar", eax
        PRINT " zf="
        PHEX8 cl
        mov eax, 0xDEADBEEF
        lsl eax, bx
        setz cl
        PVAL "lsl", eax
        PRINT " zf="
        PHEX8 cl
        verr bx
        setz cl
        PRINT " verr="
        PHEX8 cl
        verw bx
        setz cl
        PRINT " verw="
        PHEX8 cl
        NL
        add esi, 2
        jmp .lar
.lar_done:
        xor eax, eax
        lldt ax
        ; 16-bit LAR/LSL operand size: the low word only
        PRINT "lar-lsl-16bit:"
        mov eax, 0xDEADBEEF
        mov bx, D_BYTE
        lar ax, bx
        PVAL "lar", eax
        mov eax, 0xDEADBEEF
        lsl ax, bx
        PVAL "lsl", eax
        NL

; ---------------- ARPL (16-bit) ----------------
        mov esi, arpl_table
.arpl:  mov ax, [esi]
        cmp ax, 0xFFFF
        je .arpl_done
        mov bx, [esi + 2]
        PRINT "arpl dst="
        PHEX16 ax
        PRINT " src="
        PHEX16 bx
        arpl ax, bx
        setz cl
        PRINT " result="
        PHEX16 ax
        PRINT " zf="
        PHEX8 cl
        NL
        add esi, 4
        jmp .arpl
.arpl_done:
        ret

.gate_target:
        retf

sel_table:
        dw 0, 3, KCODE, KDATA, UCODE, UDATA, KDATA | 3, TSS_SEL, D_BYTE, D_PAGE, D_ED16, D_EDG
        dw C_XO, C_CONF3, C_CONF3 | 3, D_NP, D_RO, LDT_DESC, CALLGATE, INTGATE, TSS16, D_16
        dw D_DPL1 | 1, D_DPL1 | 2, GDT_ENTRIES * 8, 0x04, 0x0C, 0x14, 0x1C
        dw 0xFFFF
arpl_table:
        dw 0x0010, 0x0003
        dw 0x0013, 0x0001
        dw 0x0012, 0x0002
        dw 0x0011, 0xFFFE
        dw 0xFFFF
%include "lib/epilogue.inc"
