; realmode.asm -- a 64 KiB ROM that starts at the reset vector and exercises real-address mode, the
; switch to 32-bit protected mode and the way back; prints what it sees on debugcon (port 0xE9).
;
; Follows Intel SDM Vol. 3A: 9.1.1 Table 9-1 and 9.1.4 (reset state, first instruction at FFFFFFF0H,
; CS.base FFFF0000H until the first far jump), 20.1.1 (real-mode addresses: base = selector << 4,
; offsets of 16 bits wrap at 64 KiB; SP wraps too), 20.1.2 (32-bit operand and address-size prefixes),
; 20.1.4 (the IVT: 4-byte vectors at IDTR.base, FLAGS/CS/IP frame, IF and TF cleared; LIDT moves it),
; 6.5 / Table 6-1 (#DE and #UD are faults: the saved IP is the faulting instruction's, INT3 a trap),
; 20.1.3 (an offset beyond the 64 KiB limit raises #GP), 9.9.1 (LGDT, CR0.PE, far JMP, reload the
; segments) and 9.9.2 (back to real mode: through a 16-bit segment with a 64 KiB limit, clear PE,
; far JMP, reload the segments). The ROM must be read-only (stores to it are discarded).
; Self-contained: includes nothing from lib/. Leaves out: A20, unreal mode, interrupts from devices.
;
; Ends with the harness's END protocol (test/system/bochs.ts): "DONE", out 0xF4 (vmxsim stops),
; "Shutdown" to port 0x8900 (Bochs stops).

        bits 16
        org 0                           ; offsets within the ROM; CS = F000h (real) or base F0000h (PM)

ROM_LINEAR  equ 0xF0000
STACK_TOP   equ 0x7000
IVT2        equ 0x1000                  ; a second IVT, for LIDT in real mode
SCRATCH_SEG equ 0x2000

; ---- printing: the same routines for 16- and 32-bit code; strings are CS-relative ----
%macro PRINTLIB 1                       ; %1 = 16 or 32
putc%1:                                 ; AL
        out 0xE9, al
        ret
puts%1:                                 ; (E)SI -> zero-terminated string in CS
        push eax
        push esi
%%next:
%if %1 == 16
        mov al, [cs:si]
%else
        mov al, [cs:esi]
%endif
        test al, al
        jz %%done
        out 0xE9, al
        inc esi
        jmp %%next
%%done:
        pop esi
        pop eax
        ret
hex32_%1:                               ; EAX as 8 lower-case hex digits
        push ecx
        push eax
        push edx
        mov edx, eax
        mov ecx, 8
        jmp %%digit
hex16_%1:                               ; AX as 4 digits
        push ecx
        push eax
        push edx
        mov edx, eax
        shl edx, 16
        mov ecx, 4
        jmp %%digit
hex8_%1:                                ; AL as 2 digits
        push ecx
        push eax
        push edx
        mov edx, eax
        shl edx, 24
        mov ecx, 2
%%digit:
        rol edx, 4
        mov al, dl
        and al, 0x0F
        add al, '0'
        cmp al, '9'
        jbe %%out
        add al, 'a' - '9' - 1
%%out:
        out 0xE9, al
        dec ecx
        jnz %%digit
        pop edx
        pop eax
        pop ecx
        ret
%endmacro

; PRINT "text" -- keeps all registers and flags; BITS selects the routine
%macro PRINT 1
        jmp %%over
%%s:    db %1, 0
%%over:
        pushf
        push esi
        mov esi, %%s
        call puts %+ __?BITS?__
        pop esi
        popf
%endmacro
; HEX32/HEX16/HEX8 x -- print a register or memory operand; keeps everything
%macro HEX32 1
        pushf
        push eax
        mov eax, %1
        call hex32_ %+ __?BITS?__
        pop eax
        popf
%endmacro
%macro HEX16 1
        pushf
        push eax
        mov ax, %1
        call hex16_ %+ __?BITS?__
        pop eax
        popf
%endmacro
%macro HEX8 1
        pushf
        push eax
        mov al, %1
        call hex8_ %+ __?BITS?__
        pop eax
        popf
%endmacro
%macro NL 0
        PRINT {10}
%endmacro

; ======================================================================================= real mode
start:
        cli
        PRINT "RESET"
        mov eax, cr0
        PRINT " cr0="
        HEX32 eax
        pushfd
        pop eax
        PRINT " eflags="
        HEX32 eax
        mov ax, cs
        PRINT " cs="
        HEX16 ax
        mov ax, ss
        PRINT " ss="
        HEX16 ax
        NL
        xor ax, ax
        mov ss, ax
        mov sp, STACK_TOP
        mov ds, ax
        mov es, ax

        ; ---- the ROM is read-only ----
        mov al, [cs:rom_probe]
        mov byte [cs:rom_probe], 0x5A
        PRINT "ROM before="
        HEX8 al
        PRINT " after="
        HEX8 [cs:rom_probe]
        NL

        ; ---- segment arithmetic: linear 0x12345 through three selector:offset pairs ----
        mov ax, 0x1234
        mov es, ax
        mov dword [es:0x0005], 0xC0DE1234
        mov ax, 0x1000
        mov fs, ax
        mov ax, 0x1230
        mov gs, ax
        PRINT "SEG 1000:2345="
        HEX32 [fs:0x2345]
        PRINT " 1230:0045="
        HEX32 [gs:0x0045]
        mov ebx, 0x12345
        PRINT " 1000:2345(a32)="
        mov cx, 0x1000
        mov es, cx
        HEX32 [es:ebx - 0x10000]        ; addr32: EBX-0x10000 = 0x2345 (inside the limit)
        NL

        ; ---- 16-bit offsets wrap at 64 KiB ----
        mov ax, SCRATCH_SEG
        mov ds, ax
        mov byte [0x0001], 0x5A
        mov byte [0xFFFF], 0xA5
        mov bx, 0xFFFF
        mov si, 2
        mov al, [bx+si]                 ; offset (0xFFFF + 2) & 0xFFFF = 1
        PRINT "WRAP [bx+si]="
        HEX8 al
        mov di, 0xFFF0
        mov al, [di+0x11]               ; disp16 wraps too: 0xFFF0 + 0x11 = 0x0001
        PRINT " [di+11]="
        HEX8 al
        ; SP wraps: SS=0x3000, SP=0 -> a push goes to 3000:FFFE
        mov ax, 0x3000
        mov ss, ax
        xor sp, sp
        push word 0xBEEF
        mov cx, sp
        mov ax, 0x3FFF
        mov es, ax
        mov dx, [es:0x000E]             ; linear 0x3FFFE
        xor ax, ax
        mov ss, ax
        mov sp, STACK_TOP
        PRINT " sp="
        HEX16 cx
        PRINT " [3fffe]="
        HEX16 dx
        NL
        xor ax, ax
        mov ds, ax

        ; ---- 32-bit operand and address prefixes ----
        mov eax, 0x12345678
        add eax, 0x11111111
        PRINT "O32 add="
        HEX32 eax
        mov ecx, 0x80000000
        shr ecx, 31
        rol ecx, 16
        PRINT " rol="
        HEX32 ecx
        mov dword [0x500], 0x01020304
        mov dword [0x50C], 0xAABBCCDD
        mov ebx, 0x500
        mov esi, 2
        mov eax, [ebx+esi*4+4]          ; addr32 with SIB: 0x500 + 8 + 4
        PRINT " sib="
        HEX32 eax
        mov cx, sp
        pushad                          ; o32: eight 4-byte registers
        mov [0x510], sp
        popad
        sub cx, [0x510]
        PRINT " pushad="
        HEX16 cx
        push dword 0xFEEDF00D           ; o32 push imm32: 4 bytes on a 16-bit stack
        pop ax
        pop dx
        PRINT " push32="
        HEX16 dx
        HEX16 ax
        NL

        ; ---- the real-mode IVT: INT n, INT3 (trap), #DE and #UD (faults) ----
        mov word [0x40*4], int40
        mov word [0x40*4+2], 0xF000
        mov word [3*4], int3_handler
        mov word [3*4+2], 0xF000
        mov word [0*4], de_handler
        mov word [0*4+2], 0xF000
        mov word [6*4], ud_handler
        mov word [6*4+2], 0xF000
        mov word [13*4], gp_handler
        mov word [13*4+2], 0xF000
        sti
        mov ax, 0x4041
        int 0x40
        PRINT " back ax="
        HEX16 ax
        pushf
        pop ax
        PRINT " fl="
        HEX16 ax
        NL
        cli
        int3
after_int3:
        mov ax, 7
        xor bl, bl
de_site:
        div bl
        PRINT " after #DE ax="
        HEX16 ax
        NL
ud_site:
        ud2
        PRINT " after #UD"
        NL

        ; LIDT moves the IVT: vector 0x40 of a table at 0x1000
        mov word [IVT2 + 0x40*4], int40b
        mov word [IVT2 + 0x40*4 + 2], 0xF000
        o32 lidt [cs:ivt2_ptr]
        int 0x40
        o32 lidt [cs:ivt0_ptr]
        int 0x40
        NL

        ; ---- an offset beyond the 64 KiB limit: #GP (addr32 makes such an offset expressible) ----
        mov ebx, 0x10000
gp_site1:
        mov al, [ebx]                   ; 67 8A 03: 3 bytes
        mov bx, 0xFFFF
gp_site2:
        mov ax, [bx]                    ; word at offset FFFF: its last byte is beyond the limit
        NL

        ; ---- to 32-bit protected mode ----
        o32 lgdt [cs:gdt_ptr]
        mov eax, cr0
        or al, 1
        mov cr0, eax
        jmp dword SEL_CODE32:pm32

; ---- real-mode handlers (IVT) ----
int40:                                  ; prints the frame: CS:IP and FLAGS (IF must be 0 inside)
        push bp
        mov bp, sp
        PRINT "INT40 ax="
        HEX16 ax
        PRINT " ret="
        HEX16 [bp+4]
        PRINT ":"
        HEX16 [bp+2]
        PRINT " saved fl="
        HEX16 [bp+6]
        pushf
        pop ax
        PRINT " fl="
        HEX16 ax
        mov ax, 0x1234
        pop bp
        iret
int40b:
        PRINT "INT40-IVT2 "
        iret
int3_handler:
        push bp
        mov bp, sp
        PRINT "#BP ret="
        HEX16 [bp+4]
        PRINT ":"
        HEX16 [bp+2]
        PRINT " expect="
        HEX16 after_int3
        NL
        pop bp
        iret
de_handler:                             ; #DE: the saved IP is the DIV's; skip its 2 bytes
        push bp
        mov bp, sp
        PRINT "#DE ret="
        HEX16 [bp+4]
        PRINT ":"
        HEX16 [bp+2]
        PRINT " expect="
        HEX16 de_site
        add word [bp+2], 2
        pop bp
        iret
ud_handler:                             ; #UD: the saved IP is the UD2's; skip its 2 bytes
        push bp
        mov bp, sp
        PRINT "#UD ret="
        HEX16 [bp+4]
        PRINT ":"
        HEX16 [bp+2]
        PRINT " expect="
        HEX16 ud_site
        add word [bp+2], 2
        pop bp
        iret
gp_handler:                             ; #GP: skip the faulting instruction (3 or 2 bytes)
        push bp
        mov bp, sp
        PRINT "#GP ret="
        HEX16 [bp+2]
        cmp word [bp+2], gp_site1
        jne .two
        add word [bp+2], 3
        PRINT "(site1) "
        pop bp
        iret
.two:
        add word [bp+2], 2
        PRINT "(site2) "
        pop bp
        iret

        PRINTLIB 16

; ======================================================================================= protected mode
        bits 32
pm32:                                   ; CS = 0x08: base F0000h, so labels are offsets as in real mode
        mov ax, SEL_FLAT
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov esp, STACK_TOP
        PRINT "PM32 cs="
        mov ax, cs
        HEX16 ax
        mov eax, cr0
        PRINT " cr0="
        HEX32 eax
        mov ax, SEL_BASE12340
        mov fs, ax
        PRINT " [sel18:5]="
        HEX32 [fs:5]                    ; base 0x12340 + 5 = the 0x12345 written in real mode
        NL
        PRINT "ALIAS [fffffff0]="
        HEX32 [0xFFFFFFF0]
        PRINT " [000ffff0]="
        HEX32 [0x000FFFF0]
        sgdt [0x600]
        PRINT " gdtr="
        HEX16 [0x600]
        PRINT "/"
        HEX32 [0x602]
        NL
        ; back to real mode (SDM 9.9.2): a 16-bit code segment first
        jmp SEL_CODE16:pm16

        PRINTLIB 32

        bits 16
pm16:
        mov ax, SEL_DATA16
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov ss, ax
        mov eax, cr0
        and al, 0xFE
        mov cr0, eax
        jmp 0xF000:rm2
rm2:
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov ss, ax
        mov sp, STACK_TOP
        PRINT "RM2 cr0="
        mov eax, cr0
        HEX32 eax
        mov ax, cs
        PRINT " cs="
        HEX16 ax
        PRINT " "
        mov ax, 0x4042
        int 0x40
        NL

        ; ---- END protocol ----
        PRINT {"DONE", 10}
        mov al, 0x10
        out 0xF4, al                    ; vmxsim: isa-debug-exit, status 0x21
        mov dx, 0x8900                  ; Bochs: shutdown port
        mov si, shutdown_str
.sd:    mov al, [cs:si]
        test al, al
        jz .halt
        out dx, al
        inc si
        jmp .sd
.halt:  cli
        hlt
        jmp .halt

shutdown_str: db "Shutdown", 0
rom_probe:    db 0xA5

ivt2_ptr:   dw 0x3FF
            dd IVT2
ivt0_ptr:   dw 0x3FF
            dd 0

        align 8
gdt:
        dq 0                                                    ; 0x00
SEL_CODE32 equ $ - gdt
        dw 0xFFFF, 0x0000                                       ; 0x08 code32: base F0000, limit FFFF
        db 0x0F, 0x9B, 0x40, 0x00                               ;      (accessed already: no ROM write)
SEL_FLAT equ $ - gdt
        dw 0xFFFF, 0x0000                                       ; 0x10 data: base 0, 4 GiB
        db 0x00, 0x93, 0xCF, 0x00
SEL_BASE12340 equ $ - gdt
        dw 0xFFFF, 0x2340                                       ; 0x18 data: base 12340, limit FFFF
        db 0x01, 0x93, 0x00, 0x00
SEL_CODE16 equ $ - gdt
        dw 0xFFFF, 0x0000                                       ; 0x20 code16: base F0000, limit FFFF
        db 0x0F, 0x9B, 0x00, 0x00
SEL_DATA16 equ $ - gdt
        dw 0xFFFF, 0x0000                                       ; 0x28 data16: base 0, limit FFFF
        db 0x00, 0x93, 0x00, 0x00
gdt_end:
gdt_ptr:
        dw gdt_end - gdt - 1
        dd ROM_LINEAR + gdt

; ---- reset vector: the last 16 bytes of the ROM, fetched at FFFFFFF0h ----
        times 0xFFF0 - ($ - $$) db 0xFF
reset:
        jmp 0xF000:start
        times 0x10000 - ($ - $$) db 0xFF
