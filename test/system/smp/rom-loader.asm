; rom-loader.asm -- a 64 KiB system ROM that carries the SMP test kernel (smp.asm, as the flat image
; `objcopy -O binary` makes of its ELF) and loads it the way a Multiboot loader would, for Bochs, which
; cannot boot a Multiboot ELF by itself: from the reset vector (real mode, CS F000 with base FFFF0000,
; SDM Vol. 3A 9.1.4) it turns A20 on (port 92H, "fast A20"), enters flat 32-bit protected mode (SDM
; 9.9.1: LGDT, CR0.PE, far JMP), zeroes the kernel's memory, copies the image to its load address and
; jumps to its entry point with EAX = 2BADB002H and interrupts off (Multiboot 0.6.96 3.2).
; The application processors stay in wait-for-SIPI (their state after power-up, SDM 8.4.1) until the
; kernel starts them; none of them runs this ROM.
; Leaves out: a BIOS (no IVT, no MP/ACPI tables, no PIC setup: the kernel needs none), the Multiboot
; information structure (EBX = 0; the kernel does not read it).
;
; nasm -f bin -DKERNEL_BIN='"smp.bin"' -DLOAD_ADDR=0x100000 -DENTRY=0x... -DZERO_BYTES=0x... rom-loader.asm

%ifndef KERNEL_BIN
 %error "define KERNEL_BIN (the kernel's flat image), LOAD_ADDR, ENTRY and ZERO_BYTES"
%endif

ROM_BASE        equ 0xF0000             ; the low alias of the ROM: code and data are addressed here
SEL_CODE        equ 0x08
SEL_DATA        equ 0x10

        org 0
kernel:
        incbin KERNEL_BIN
kernel_end:

        align 8
gdt:    dq 0
        dq 0x00CF9B000000FFFF           ; 08: flat 32-bit code, accessed already (the ROM is read-only)
        dq 0x00CF93000000FFFF           ; 10: flat data, accessed already
gdt_end:
gdtr:   dw gdt_end - gdt - 1
        dd ROM_BASE + gdt

        bits 16
rm_entry:                               ; CS = F000 (base F0000) after the far JMP at the reset vector
        cli
        cld
        in al, 0x92
        or al, 2                        ; A20 gate on; bit 0 (reset) stays clear
        and al, 0xFE
        out 0x92, al
        mov ax, cs
        mov ds, ax
        o32 lgdt [gdtr]
        mov eax, cr0
        or eax, 1
        mov cr0, eax
        jmp dword SEL_CODE:(ROM_BASE + pm_entry)

        bits 32
pm_entry:
        mov ax, SEL_DATA
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov edi, LOAD_ADDR              ; zero the image and its .bss ...
        xor eax, eax
        mov ecx, ZERO_BYTES / 4
        rep stosd
        mov esi, ROM_BASE + kernel      ; ... then copy the image over it
        mov edi, LOAD_ADDR
        mov ecx, kernel_end - kernel
        rep movsb
        mov eax, 0x2BADB002
        xor ebx, ebx
        jmp SEL_CODE:ENTRY

%if ($ - $$) > 0xFFF0
 %error "the kernel does not fit below the reset vector"
%endif
        times 0xFFF0 - ($ - $$) db 0xFF
        bits 16
        jmp 0xF000:rm_entry             ; the reset vector (SDM 9.1.4)
        times 0x10000 - ($ - $$) db 0xFF
