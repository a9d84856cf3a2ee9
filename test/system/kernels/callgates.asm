; callgates.asm -- far CALL/JMP through 32-bit call gates: ring 3 -> ring 0 with a stack switch and
; two copied parameters, far RET with an immediate back to ring 3 (nulling data segment registers
; the outer ring may not use), same-level calls and jumps, conforming targets, and the gate checks.
;
; Follows Intel SDM Vol. 3A 5.8.3-5.8.6 (call gates, Figure 5-8 layout, the access checks of 5.8.4:
; CPL and RPL <= gate DPL, target DPL <= CPL for CALL, = CPL for JMP to non-conforming code),
; 5.8.5 (stack switching: new SS:ESP from the TSS, the caller's SS, ESP, the parameters and CS, EIP
; on the new stack, Figure 5-13), 5.8.6 (return from a called procedure: RET n pops the parameters
; on both stacks, DS/ES/FS/GS holding data or non-conforming code with DPL < CPL become null), and
; the CALL, JMP and RET pseudo-code of Vol. 2A (error codes: #GP(gate/code selector), #NP(gate)).
; Leaves out: 16-bit call gates, task gates, rings 1 and 2.

%include "lib/prologue.inc"

CG_UP      equ KSEL_FREE + 0x00         ; DPL 3 -> KCODE:gate_up, 2 parameters
CG_SAME    equ KSEL_FREE + 0x08         ; DPL 0 -> KCODE:gate_same, 2 parameters
CG_CONF    equ KSEL_FREE + 0x10         ; DPL 3 -> C_CONF0:gate_conf
CG_NP      equ KSEL_FREE + 0x18         ; DPL 3, not present
CG_DPL0    equ KSEL_FREE + 0x20         ; DPL 0 -> KCODE:gate_up
CG_NULLCS  equ KSEL_FREE + 0x28         ; DPL 3 -> null code selector
CG_DATACS  equ KSEL_FREE + 0x30         ; DPL 3 -> KDATA
CG_JMP     equ KSEL_FREE + 0x38         ; DPL 0 -> KCODE:jmp_target
C_CONF0    equ KSEL_FREE + 0x40         ; conforming readable code, DPL 0
CG_CONFJ   equ KSEL_FREE + 0x48         ; DPL 3 -> C_CONF0:conf_jmp_target
frame      equ SCRATCH                  ; values recorded by the gate targets

; SETCGATE sel, target, code selector, access byte, parameter count
%macro SETCGATE 5
        mov eax, %2
        mov [GDT_BASE + %1], ax
        mov word [GDT_BASE + %1 + 2], %3
        mov byte [GDT_BASE + %1 + 4], %5
        mov byte [GDT_BASE + %1 + 5], %4
        shr eax, 16
        mov [GDT_BASE + %1 + 6], ax
%endmacro

kmain:
        SETDESC C_CONF0, 0, 0xFFFFF, 0x9E, FL_G_D
        SETCGATE CG_UP,     gate_up,   KCODE,   0xEC, 2
        SETCGATE CG_SAME,   gate_same, KCODE,   0x8C, 2
        SETCGATE CG_CONF,   gate_conf, C_CONF0, 0xEC, 0
        SETCGATE CG_NP,     gate_up,   KCODE,   0x6C, 2
        SETCGATE CG_DPL0,   gate_up,   KCODE,   0x8C, 2
        SETCGATE CG_NULLCS, gate_up,   0,       0xEC, 0
        SETCGATE CG_DATACS, gate_up,   KDATA,   0xEC, 0
        SETCGATE CG_JMP,    jmp_target, KCODE,  0x8C, 0
        SETCGATE CG_CONFJ,  conf_jmp_target, C_CONF0, 0xEC, 0
        mov dx, DEBUGCON_PORT
        call io_allow                   ; ring 3 prints through the I/O bitmap

; ---- same level (ring 0): no stack switch, parameters are not copied ----
        push dword 0x11111111
        push dword 0x22222222
        mov [frame + 0x40], esp
        call CG_SAME:0
.same_ret:
        mov [frame + 0x44], esp
        PRINT "callgate-same-level:"
        PVAL "eip", [frame + 0]
        PVAL "cs", [frame + 4]
        PVAL "p1", [frame + 8]
        PVAL "p2", [frame + 12]
        PVAL "target-cs", [frame + 16]
        mov eax, [frame + 0x40]
        sub eax, [frame + 20]
        PVAL "esp-drop", eax            ; caller ESP - target ESP: CS and EIP only
        mov eax, [frame + 0x44]
        sub eax, [frame + 0x40]
        PVAL "ret8-pops", eax
        NL
        mov [frame + 0x40], esp
        jmp CG_JMP:0
.jmp_back:
        PRINT "jmpgate-same-level:"
        PVAL "target-cs", [frame + 16]
        mov eax, [frame + 0x40]
        sub eax, [frame + 20]
        PVAL "esp-change", eax
        NL

; ---- from ring 3 ----
        mov eax, u_main
        xor ebx, ebx
        call enter_user
        ret

; ================= gate targets =================
gate_same:                              ; ring 0 -> ring 0
        mov eax, [esp]
        sub eax, kmain.same_ret
        mov [frame + 0], eax
        mov eax, [esp + 4]
        mov [frame + 4], eax
        mov eax, [esp + 8]
        mov [frame + 8], eax
        mov eax, [esp + 12]
        mov [frame + 12], eax
        mov eax, cs
        mov [frame + 16], eax
        mov [frame + 20], esp
        retf 8

jmp_target:                             ; reached by JMP through CG_JMP at ring 0
        mov eax, cs
        mov [frame + 16], eax
        mov [frame + 20], esp
        jmp kmain.jmp_back

gate_up:                                ; ring 3 -> ring 0 through CG_UP
        mov eax, [esp]
        sub eax, u_main.up_ret
        mov [frame + 0], eax            ; EIP, relative to the return point
        mov eax, [esp + 4]
        mov [frame + 4], eax            ; CS
        mov eax, [esp + 8]
        mov [frame + 8], eax            ; parameter pushed last
        mov eax, [esp + 12]
        mov [frame + 12], eax           ; parameter pushed first
        mov eax, [esp + 16]
        mov [frame + 16], eax           ; caller ESP
        mov eax, [esp + 20]
        mov [frame + 20], eax           ; caller SS
        mov eax, cs
        mov [frame + 24], eax
        mov eax, ss
        mov [frame + 28], eax
        mov [frame + 32], esp
        mov eax, ds
        mov [frame + 36], eax           ; DS is still the caller's
        mov ax, KDATA                   ; DS, ES: data DPL 0 -> null after RET to ring 3
        mov ds, ax
        mov es, ax
        mov ax, UDATA                   ; FS: data DPL 3 -> kept
        mov fs, ax
        mov ax, KCODE                   ; GS: non-conforming code DPL 0 -> null
        mov gs, ax
        retf 8

gate_conf:                              ; conforming target: CPL stays 3
        mov eax, cs
        mov [frame + 0x50], eax
        mov eax, ss
        mov [frame + 0x54], eax
        mov [frame + 0x58], esp
        retf

conf_jmp_target:
        mov eax, cs
        mov [frame + 0x50], eax
        jmp UCODE:u_main.confj_back

; ================= ring 3 =================
%macro RCHECK 2
        CHECK %1, %%r
        EXCBASE %%f
%%f:    %2
%%r:    ENDCHECK
%endmacro

u_main:
        mov [frame + 0x60], esp
        push dword 0x11111111
        push dword 0x22222222
        call CG_UP:0
.up_ret:
        mov eax, ds                     ; the RET may have nulled DS: registers first
        mov ecx, es
        mov edx, fs
        mov esi, gs
        mov edi, esp
        mov bx, UDATA
        mov ds, bx
        mov es, bx
        mov fs, bx
        mov gs, bx
        PRINT "callgate-up-frame:"
        PVAL "eip", [frame + 0]
        PVAL "cs", [frame + 4]
        PVAL "param-last", [frame + 8]
        PVAL "param-first", [frame + 12]
        PVAL "esp", [frame + 16]
        PVAL "ss", [frame + 20]
        NL
        PRINT "callgate-up-target:"
        PVAL "cs", [frame + 24]
        PVAL "ss", [frame + 28]
        PVAL "esp", [frame + 32]
        PVAL "ds", [frame + 36]
        NL
        PRINT "callgate-ret-outer:"
        PVAL "ds", eax
        PVAL "es", ecx
        PVAL "fs", edx
        PVAL "gs", esi
        sub edi, [frame + 0x60]
        PVAL "esp-change", edi          ; RET 8 pops the parameters: back to the value before the pushes
        mov eax, cs
        PVAL "cs", eax
        NL

        call CG_CONF:0
        PRINT "callgate-conforming:"
        PVAL "cs", [frame + 0x50]
        PVAL "ss", [frame + 0x54]
        mov eax, esp
        sub eax, [frame + 0x58]
        PVAL "esp-drop", eax
        NL
        jmp CG_CONFJ:0
.confj_back:
        PRINT "jmpgate-conforming:"
        PVAL "cs", [frame + 0x50]
        NL

        RCHECK "call-gate-dpl0-from-ring3", {call CG_DPL0:0}
        RCHECK "call-gate-not-present",     {call CG_NP:0}
        RCHECK "call-gate-null-cs",         {call CG_NULLCS:0}
        RCHECK "call-gate-data-cs",         {call CG_DATACS:0}
        RCHECK "jmp-gate-to-ring0-code",    {jmp CG_UP:0}
        RCHECK "call-code-ring0-direct",    {call KCODE:0}
        push dword KCODE
        push dword .ret_inner_r
        RCHECK "retf-to-inner-ring",        retf
        add esp, 8
.ret_inner_r:
        int USER_EXIT_VEC

%include "lib/epilogue.inc"
