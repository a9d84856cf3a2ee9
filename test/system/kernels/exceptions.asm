; exceptions.asm -- raises every exception vector 0-19 that a processor without an exposed FPU can
; raise, and prints vector, error code and the saved EIP relative to the check's first instruction.
;
; Follows Intel SDM Vol. 3A 6.15 (the description of each vector: class fault/trap/abort, error code,
; saved CS:EIP), 6.13 (error code: EXT, IDT and TI bits, selector index), Table 6-4/6-5 (benign and
; contributory exceptions, when a second exception gives #DF), 17.3.1.4 (single-step trap),
; Table 2-2 "Action taken by WAIT for EM/MP/TS" (Vol. 3A 2.5 / 9.2) for #NM, 4.7 for #PF.
; Leaves out: #MF (16), #MC (18) and #XM (19) need an FPU, a machine-check source or SSE; #TS (10)
; needs a task switch, which the issue does not require; the saved EIP of #DF (undefined, not printed).
;
; Each check prints "name: " then either the handler's "EXC vv ..." line(s) or "no exception".

%include "lib/prologue.inc"

SEL_SS_LIM   equ KSEL_FREE + 0x00       ; stack segment base 0 limit 0x8FFFF (byte granular)
SEL_DS_NP    equ KSEL_FREE + 0x08       ; data segment, not present
PTE_BASE     equ PAGE_DIR + 0x1000      ; one page table: linear 0-4 MiB
IDT2         equ SCRATCH + 0x10000 - 14 * 8     ; IDT copy whose entry 14 starts a page

kmain:
        SETDESC SEL_SS_LIM, 0, 0x8FFFF, ACC_DATA0, FL_D
        SETDESC SEL_DS_NP, 0, 0xFFFFF, ACC_DATA0 & 0x7F, FL_G_D

; ---- #DE (vector 0, fault): divide by zero, quotient too large, IDIV overflow ----
        CHECK "de-div-by-zero", .de1r
        EXCBASE .de1
        mov eax, 0x11111111
        mov edx, 0x00000022
        xor ecx, ecx
.de1:   div ecx
.de1r:  ENDCHECK
        PRINT "de-registers-unchanged:"  ; a fault leaves EDX:EAX as they were
        PVAL "eax", eax
        PVAL "edx", edx
        NL
        CHECK "de-quotient-overflow", .de2r
        EXCBASE .de2
        mov edx, 2
        xor eax, eax
        mov ecx, 1
.de2:   div ecx
.de2r:  ENDCHECK
        CHECK "de-idiv-8bit-overflow", .de3r
        EXCBASE .de3
        mov ax, 0x8000
        mov cl, 0xFF
.de3:   idiv cl                         ; -32768 / -1 = 32768 does not fit in AL
.de3r:  ENDCHECK

; ---- #DB (vector 1, trap): single-step over five instructions ----
        PRINT "db-single-step:"
        NL
        EXCBASE .db0
        mov dword [exc_count], 0
        pushfd
        or dword [esp], 0x100
        popfd                           ; sets TF: the first trap follows the NEXT instruction
.db0:   nop
        mov eax, 1
        add eax, eax
        pushfd
        and dword [esp], ~0x100
        popfd                           ; TF was set when it started: one more trap after it
        nop
        PRINT "db-single-step-count:"
        PVAL "traps", [exc_count]
        NL

; ---- #BP (vector 3, trap): INT3 and INT 3 continue after the instruction ----
        CHECK "bp-int3"
        EXCBASE .bp1
.bp1:   int3
        ENDCHECK
        CHECK "bp-int-3"
        EXCBASE .bp2
.bp2:   int 3
        ENDCHECK

; ---- #OF (vector 4, trap): INTO with OF=1 traps, with OF=0 does nothing ----
        CHECK "of-into-set"
        EXCBASE .of1
        mov al, 0x7F
        add al, 1                       ; OF=1
.of1:   into
        ENDCHECK
        CHECK "of-into-clear"
        xor eax, eax                    ; OF=0
        into
        ENDCHECK

; ---- #BR (vector 5, fault): BOUND out of range below and above, in range ----
        CHECK "br-below", .br1r
        EXCBASE .br1
        mov dword [SCRATCH], 10
        mov dword [SCRATCH + 4], 20
        mov eax, 9
.br1:   bound eax, [SCRATCH]
.br1r:  ENDCHECK
        CHECK "br-above", .br2r
        EXCBASE .br2
        mov eax, 21
.br2:   bound eax, [SCRATCH]
.br2r:  ENDCHECK
        CHECK "br-in-range"
        mov eax, 20
        bound eax, [SCRATCH]
        ENDCHECK

; ---- #UD (vector 6, fault) ----
        CHECK "ud-ud2", .ud1r
        EXCBASE .ud1
.ud1:   ud2
.ud1r:  ENDCHECK
        CHECK "ud-mov-cs", .ud2r
        EXCBASE .ud2
.ud2:   db 0x8E, 0xC8                   ; MOV CS, AX: #UD (SDM Vol. 2B MOV)
.ud2r:  ENDCHECK
        CHECK "ud-lock-nop", .ud3r
        EXCBASE .ud3
.ud3:   db 0xF0, 0x90                   ; LOCK on a non-lockable instruction: #UD
.ud3r:  ENDCHECK

; ---- #NM (vector 7, fault): WAIT with CR0.MP=1 TS=1 faults; with MP=0 TS=1 it does not ----
        mov eax, cr0
        and eax, ~0x4                   ; EM=0
        or eax, 0x2 | 0x8               ; MP=1, TS=1
        mov cr0, eax
        CHECK "nm-wait-mp-ts", .nm1r
        EXCBASE .nm1
.nm1:   wait
.nm1r:  ENDCHECK
        mov eax, cr0
        and eax, ~0x2                   ; MP=0, TS still 1
        mov cr0, eax
        CHECK "nm-wait-ts-only"
        wait
        ENDCHECK
        clts
        PRINT "nm-after-clts:"
        mov eax, cr0
        and eax, 0xF                    ; PE, MP, EM, TS
        PVAL "cr0.pe-mp-em-ts", eax
        NL

; ---- #DF (vector 8, abort) and what does NOT give #DF (SDM Table 6-5) ----
        ; benign (#BP, software) then #NP for its not-present gate: serial, EXT=0, no #DF
        and byte [IDT_BASE + 3 * 8 + 5], 0x7F
        CHECK "np-int3-gate-not-present", .df1r
        EXCBASE .df1
.df1:   int3
.df1r:  ENDCHECK
        or byte [IDT_BASE + 3 * 8 + 5], 0x80
        ; benign (#UD) then #NP for its gate: serial, EXT=1, no #DF
        and byte [IDT_BASE + 6 * 8 + 5], 0x7F
        CHECK "np-ud-gate-not-present", .df2r
        EXCBASE .df2
.df2:   ud2
.df2r:  ENDCHECK
        or byte [IDT_BASE + 6 * 8 + 5], 0x80
        ; contributory (#GP) then contributory (#NP for the #GP gate): #DF, error code 0
        and byte [IDT_BASE + 13 * 8 + 5], 0x7F
        CHECK "df-gp-gate-not-present", .df3r
        xor eax, eax
        mov ss, ax                      ; null selector into SS: #GP(0)
.df3r:  ENDCHECK
        or byte [IDT_BASE + 13 * 8 + 5], 0x80
        mov ax, KDATA
        mov ss, ax
        ; contributory (#DE) then #NP for the #DE gate: #DF
        and byte [IDT_BASE + 0 * 8 + 5], 0x7F
        CHECK "df-de-gate-not-present", .df4r
        xor ecx, ecx
        div ecx
.df4r:  ENDCHECK
        or byte [IDT_BASE + 0 * 8 + 5], 0x80

; ---- #NP (vector 11, fault) ----
        SETGATE 0x41, .np1r, GATE_INT0 & 0x7F
        CHECK "np-int-gate-not-present", .np1r
        EXCBASE .np1
.np1:   int 0x41                        ; error code 0x41*8 + 2 (IDT), EXT=0
.np1r:  ENDCHECK
        CHECK "np-load-ds", .np2r
        EXCBASE .np2
        mov ax, SEL_DS_NP
.np2:   mov ds, ax                      ; #NP(selector)
.np2r:  ENDCHECK

; ---- #SS (vector 12, fault): access beyond the SS limit ----
        CHECK "ss-limit", .ss1r
        EXCBASE .ss1
        mov ax, SEL_SS_LIM
        mov ss, ax                      ; ESP (just below 0x90000) is inside the limit 0x8FFFF
        mov ebp, 0x8FFFE
.ss1:   mov eax, [ebp]                  ; bytes 0x8FFFE..0x90001: beyond the limit: #SS(0)
.ss1r:  ENDCHECK
        mov ax, KDATA
        mov ss, ax

; ---- #GP (vector 13, fault) ----
        CHECK "gp-write-code-segment", .gp1r
        EXCBASE .gp1
.gp1:   mov [cs:SCRATCH], eax
.gp1r:  ENDCHECK
        CHECK "gp-selector-beyond-gdt", .gp2r
        EXCBASE .gp2
        mov ax, GDT_ENTRIES * 8
.gp2:   mov ds, ax
.gp2r:  ENDCHECK
        CHECK "gp-null-ss", .gp3r
        EXCBASE .gp3
        xor eax, eax
.gp3:   mov ss, ax
.gp3r:  ENDCHECK
        CHECK "gp-int-gate-type-zero", .gp5r
        EXCBASE .gp5
.gp5:   int 0x40                        ; an all-zero IDT entry is not a gate: #GP(0x40*8+2)
.gp5r:  ENDCHECK
        CHECK "gp-cr4-reserved-bit", .gp4r
        EXCBASE .gp4
        mov eax, cr4
        or eax, 0x80000000
.gp4:   mov cr4, eax
.gp4r:  ENDCHECK

; ---- #PF (vector 14, fault): 4 KiB identity map of 0-4 MiB, page 0x300000 not present ----
        mov edi, PAGE_DIR
        xor eax, eax
        mov ecx, 1024
        rep stosd
        mov dword [PAGE_DIR], PTE_BASE | 0x7
        mov edi, PTE_BASE
        mov eax, 0x7                    ; present, writable, user
        mov ecx, 1024
.pte:   stosd
        add eax, 0x1000
        loop .pte
        mov dword [PTE_BASE + (0x300000 >> 12) * 4], 0x300000 | 0x6     ; not present
        mov dword [PTE_BASE + (0x301000 >> 12) * 4], 0x301000 | 0x5     ; read-only
        mov eax, PAGE_DIR
        mov cr3, eax
        mov eax, cr0
        or eax, 0x80010000              ; PG, WP
        mov cr0, eax
        CHECK "pf-read-not-present", .pf1r
        EXCBASE .pf1
.pf1:   mov eax, [0x300010]
.pf1r:  ENDCHECK
        CHECK "pf-write-not-present", .pf2r
        EXCBASE .pf2
.pf2:   mov [0x300ffc], eax
.pf2r:  ENDCHECK
        CHECK "pf-write-read-only-wp", .pf3r
        EXCBASE .pf3
.pf3:   mov word [0x301ffe], ax
.pf3r:  ENDCHECK
        ; page fault, then contributory (#GP: the #PF gate's code selector is beyond the GDT): #DF
        mov word [IDT_BASE + 14 * 8 + 2], GDT_ENTRIES * 8
        CHECK "df-pf-then-gp", .pf5r
        mov eax, [0x300000]
.pf5r:  ENDCHECK
        mov word [IDT_BASE + 14 * 8 + 2], KCODE
        ; contributory (#GP), then a page fault reading its IDT entry: serial, no #DF. The IDT copy
        ; at IDT2 puts entries 0-13 on a not-present page and entries 14-255 on the next one.
        mov esi, IDT_BASE
        mov edi, IDT2
        mov ecx, 256 * 2
        rep movsd
        mov dword [PTE_BASE + ((IDT2 >> 12) * 4)], (IDT2 & ~0xFFF) | 0x2   ; not present
        invlpg [IDT2]
        lidt [idt2_ptr]
        CHECK "pf-reading-gp-idt-entry", .pf6r
        EXCBASE .pf6
        xor eax, eax
.pf6:   mov ss, ax                      ; #GP(0); its gate at IDT2 + 13*8 is on the not-present page
.pf6r:  ENDCHECK
        lidt [idt_ptr]
        mov dword [PTE_BASE + ((IDT2 >> 12) * 4)], (IDT2 & ~0xFFF) | 0x7
        invlpg [IDT2]
        mov eax, cr0
        and eax, ~0x80010000
        mov cr0, eax

; ---- #AC (vector 17, fault): CR0.AM=1, EFLAGS.AC=1, misaligned access at CPL 3 ----
        mov eax, cr0
        or eax, 0x40000                 ; AM
        mov cr0, eax
        CHECK "ac-ring0-no-check"
        pushfd
        or dword [esp], 0x40000
        popfd
        mov eax, [SCRATCH + 1]
        pushfd
        and dword [esp], ~0x40000
        popfd
        ENDCHECK
        CHECK "ac-ring3-misaligned", .ac1r
        EXCBASE .ac1
        mov eax, .ac_user
        mov ebx, 0x40000                ; AC
        call enter_user
        ENDCHECK
        CHECK "ac-ring3-aligned-and-ac-clear"
        mov eax, .ac_user2
        xor ebx, ebx                    ; AC=0
        call enter_user
        ENDCHECK
        mov eax, cr0
        and eax, ~0x40000
        mov cr0, eax
        ret

.ac_user:
.ac1:   mov eax, [SCRATCH + 1]
.ac1r:  mov eax, [SCRATCH + 4]          ; aligned: no fault
        mov ax, [SCRATCH + 2]
        int USER_EXIT_VEC
.ac_user2:
        mov eax, [SCRATCH + 1]
        int USER_EXIT_VEC

idt2_ptr:
        dw 256 * 8 - 1
        dd IDT2

%include "lib/epilogue.inc"
