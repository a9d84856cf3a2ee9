; smp.asm -- a bare-metal SMP test kernel (Multiboot-1 ELF32) for 4 processors: the BSP starts the
; application processors one at a time with INIT-SIPI-SIPI, each AP goes real mode -> protected mode
; on its own and checks in; then the processors exchange IPIs in a ring, answer a broadcast IPI in a
; fixed order (spinlock + turn variable), and increment a shared counter with LOCK XADD.
; The output on debugcon (port 0xE9) is deterministic by construction: at every moment exactly one
; processor may print, and the next one starts only after it has finished (an IPI sent after the
; print, a check-in flag set after the print, or a turn variable advanced after the print).
;
; Follows:
;   Intel SDM Vol. 3A 8.4.4.1 ("Typical BSP Initialization Sequence": INIT, 10 ms, SIPI, 200 us,
;     SIPI, 200 us) and 8.4.4.2 (the AP starts in real mode at vector * 4096, CS = vector << 8, IP 0);
;     MultiProcessor Specification 1.4, appendix B.4 (the same sequence, one AP at a time);
;   SDM Vol. 3A 10.4.1/10.4.6 (local APIC at IA32_APIC_BASE, ID register bits 31:24), 10.4.7.1-2 and
;     10.9 (SVR: APIC software enable bit 8, spurious vector), 10.5.1 (LVT mask bit 16), 10.6.1 (ICR:
;     delivery mode, level, destination shorthand, delivery status bit 12; the write to the low dword
;     sends), 10.8.4-10.8.5 (ISR bit set while the handler runs, EOI clears it), 10.5.3 (ESR: write,
;     then read);
;   SDM Vol. 3A 8.1.2.1 (XCHG with memory is locked; LOCK XADD / LOCK CMPXCHG are atomic), 9.9.1
;     (switching to protected mode: LGDT, CR0.PE, far JMP);
;   Multiboot 0.6.96 3.1-3.2 (header; entry in flat protected mode with IF = 0, our own GDT needed).
; The kernel assumes 4 processors with APIC IDs 0..3 (what qemu-system-i386 -smp 4 and vmxsim
; exec --cores 4 give; a real kernel would read the MP table or the ACPI MADT) and starts every ID in
; 0..3 other than the BSP's own. Delays: RDTSC, assuming a TSC of at most 4 GHz, so every delay is at
; least what the SDM asks for (there may be no PIT on the machine under test).
; Leaves out: x2APIC, the MP table / MADT, INIT de-assert (not needed after the 82489DX, SDM 8.4.4.1),
; APIC error interrupts (the ESR is read at the end instead), paging.
;
; Checks, each failing with a "FAIL: ..." line: the APIC base and SVR read back, every AP checks in
; within 1 s with the APIC ID the IPIs went to, each IPI phase completes within 2 s,
; LOCK CMPXCHG finds the expected turn, the counter is 4000 and the XADD old values sum to 0+...+3999,
; the BSP's ESR is 0, no spurious interrupt, and every EOI cleared its vector's ISR bit.
;
; Build: nasm -f elf32 smp.asm && ld -m elf_i386 -T smp.ld (see build.ts); for Bochs the same image
; goes into the ROM of rom-loader.asm. Ends with out 0xF4: 0x10 = every check passed (QEMU exit status
; 33), 0x11 = a check failed (status 35); then, for Bochs, "Shutdown" to port 0x8900.

bits 32

NCPUS           equ 4
KCODE           equ 0x08
KDATA           equ 0x10
DEBUGCON        equ 0xE9
DEBUG_EXIT      equ 0xF4
EXIT_PASS       equ 0x10
EXIT_FAIL       equ 0x11

TRAMP_BASE      equ 0x8000              ; the SIPI vector 08H means start at 0x08000 (SDM 8.4.4.2)
SIPI_VECTOR     equ TRAMP_BASE >> 12
STACK_BYTES     equ 4096

TSC_PER_US      equ 4000                ; assume the TSC runs at 4 GHz or less: delays are long enough
CHECKIN_US      equ 1000000             ; an AP that has not checked in after 1 s has failed (generous:
                                        ; under QEMU the TSC is host time, and the host may be busy)
PHASE_US        equ 2000000             ; each IPI phase must end within 2 s

; local APIC registers (SDM Vol. 3A Table 10-1), xAPIC MMIO at the default base
LAPIC           equ 0xFEE00000
LAPIC_ID        equ LAPIC + 0x020
LAPIC_TPR       equ LAPIC + 0x080
LAPIC_EOI       equ LAPIC + 0x0B0
LAPIC_SVR       equ LAPIC + 0x0F0
LAPIC_ISR       equ LAPIC + 0x100       ; 8 registers, 16 bytes apart: vector v is bit v%32 of ISR[v/32]
LAPIC_ESR       equ LAPIC + 0x280
LAPIC_ICR_LO    equ LAPIC + 0x300
LAPIC_ICR_HI    equ LAPIC + 0x310
LAPIC_LVT_TIMER equ LAPIC + 0x320
LAPIC_LVT_LINT0 equ LAPIC + 0x350
LAPIC_LVT_LINT1 equ LAPIC + 0x360
LAPIC_LVT_ERROR equ LAPIC + 0x370
IA32_APIC_BASE  equ 0x1B

SVR_ENABLE      equ 0x100
SPURIOUS_VEC    equ 0xFF
LVT_MASKED      equ 0x10000
ICR_BUSY        equ 0x1000              ; delivery status: send pending
ICR_POLLS       equ 1000000             ; reads of the ICR before a still-pending send counts as failed
ICR_ASSERT      equ 0x4000              ; level: assert
ICR_FIXED       equ 0x000
ICR_INIT        equ 0x500
ICR_STARTUP     equ 0x600
ICR_ALL_BUT_SELF equ 0xC0000            ; destination shorthand 11b

RING_VEC        equ 0x40                ; a ring of fixed IPIs: BSP -> AP 1 -> AP 2 -> AP 3 -> BSP
BCAST_VEC       equ 0x41                ; all-excluding-self: each AP prints in turn
COUNT_VEC       equ 0x42                ; all-excluding-self: each AP adds 1000 to the counter
COUNT_PER_CPU   equ 1000

; PUTS 'text' -- print a string constant (kept in .rodata); every register and EFLAGS are kept
%macro PUTS 1+
        [section .rodata]
%%s:    db %1, 0
        __SECT__
        pushfd
        push esi
        mov esi, %%s
        call puts
        pop esi
        popfd
%endmacro

; PUTDEC src -- print src (register or memory dword) in decimal; every register and EFLAGS are kept
%macro PUTDEC 1
        pushfd
        push eax
        mov eax, %1
        call putdec
        pop eax
        popfd
%endmacro

; PUTHEX src, digits -- print the low `digits` hex digits of src, lower case
%macro PUTHEX 2
        pushfd
        push eax
        push ecx
        mov eax, %1
        mov ecx, %2
        call puthex
        pop ecx
        pop eax
        popfd
%endmacro

; EOI_CHECK vector -- EOI, then record in isr_stuck if the vector's ISR bit is still set (SDM 10.8.5:
; the EOI write clears the highest-priority ISR bit, here the vector being handled). Keeps registers.
%macro EOI_CHECK 1
        push edx
        mov dword [LAPIC_EOI], 0
        mov edx, [LAPIC_ISR + ((%1) / 32) * 16]
        shr edx, (%1) % 32
        and edx, 1
        lock or [isr_stuck], edx
        pop edx
%endmacro

; FAIL 'text' -- print "FAIL: text" and end the run with EXIT_FAIL
%macro FAIL 1+
        PUTS "FAIL: ", %1, 10
        jmp fail_exit
%endmacro

; ---------------------------------------------------------------------------------------------------
section .multiboot
align 4
        dd 0x1BADB002                   ; magic
        dd 0                            ; flags: bit 16 clear, so the loader uses the ELF headers
        dd -0x1BADB002                  ; checksum

; ---------------------------------------------------------------------------------------------------
section .text
global _start
_start:
        cli
        cld
        lgdt [gdtr]
        jmp KCODE:.cs_loaded
.cs_loaded:
        mov ax, KDATA
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov ss, ax
        mov esp, bsp_stack + STACK_BYTES
        call build_idt
        lidt [idtr]

        PUTS "SMP test kernel: BSP up, ", 0x30 + NCPUS, " processors expected", 10

        ; IA32_APIC_BASE: base FEE00000, global enable (bit 11) and BSP (bit 8) on the BSP (SDM 10.4.4)
        mov ecx, IA32_APIC_BASE
        rdmsr
        mov ebx, eax
        PUTS "BSP: IA32_APIC_BASE base "
        mov eax, ebx
        and eax, 0xFFFFF000
        PUTHEX eax, 8
        PUTS ", enable "
        mov eax, ebx
        shr eax, 11
        and eax, 1
        PUTDEC eax
        PUTS ", bsp "
        mov eax, ebx
        shr eax, 8
        and eax, 1
        PUTDEC eax
        PUTS 10
        and ebx, 0xFFFFF000
        cmp ebx, LAPIC
        je .base_ok
        FAIL "the local APIC is not at FEE00000"
.base_ok:

        call lapic_enable
        mov eax, [LAPIC_ID]
        shr eax, 24
        mov [bsp_apic_id], eax
        mov [apic_ids], eax             ; processor 0 is the BSP
        mov byte [cpu_index_of + eax], 0
        PUTS "BSP: apic id "
        PUTDEC eax
        PUTS ", svr "
        PUTHEX [LAPIC_SVR], 8
        PUTS 10
        cmp dword [LAPIC_SVR], SVR_ENABLE | SPURIOUS_VEC   ; bits 10-31 are reserved: 0
        je .svr_ok
        FAIL "SVR does not read back as written (is there a local APIC?)"
.svr_ok:

        ; the trampoline goes below 1 MiB, where a SIPI can point (SDM 8.4.4.2)
        mov esi, tramp_start
        mov edi, TRAMP_BASE
        mov ecx, tramp_end - tramp_start
        rep movsb
        PUTS "BSP: trampoline copied to 00008000, SIPI vector 08", 10

; ---- start the APs one at a time (SDM 8.4.4.1; MP spec B.4) ----
        mov ebx, 0                      ; candidate APIC ID
        mov edi, 1                      ; index of the next AP
.next_ap:
        cmp ebx, [bsp_apic_id]
        je .skip_id
        mov [next_ap], edi
        PUTS "BSP: starting AP "
        PUTDEC edi
        PUTS " (apic id "
        PUTDEC ebx
        PUTS "): INIT, SIPI, SIPI", 10
        mov dword [ap_ready], 0
        call start_ap
        ; wait for the AP to check in (it sets ap_ready after its line is out)
        mov ecx, CHECKIN_US
        call deadline_after
.wait_ap:
        cmp [ap_ready], edi
        je .ap_in
        pause
        call past_deadline
        jnc .wait_ap
        FAIL "AP did not check in within 1 s"
.ap_in:
        cmp [apic_ids + edi * 4], ebx
        je .id_ok
        FAIL "the AP reports another APIC ID than the one the INIT/SIPI went to"
.id_ok:
        inc edi
.skip_id:
        inc ebx
        cmp ebx, 0x100
        jae .ids_done
        cmp edi, NCPUS
        jb .next_ap
.ids_done:
        cmp edi, NCPUS
        je .all_up
        FAIL "fewer processors than expected"
.all_up:
        PUTS "BSP: all ", 0x30 + NCPUS, " processors up", 10

; ---- phase 1: a ring of fixed IPIs ----
        mov eax, [apic_ids + 4]
        PUTS "BSP: ring: sending vector 40 to apic id "
        PUTDEC eax
        PUTS 10
        mov ecx, RING_VEC | ICR_FIXED | ICR_ASSERT
        call send_ipi                   ; EAX = destination APIC ID
        mov ecx, PHASE_US
        call deadline_after
        sti                             ; the ring's last IPI comes to the BSP
.wait_ring:
        cmp dword [ring_done], 0
        jne .ring_done
        pause
        call past_deadline
        jnc .wait_ring
        FAIL "the ring IPI did not come back within 2 s"
.ring_done:

; ---- phase 2: a broadcast, answered in turn ----
        mov dword [turn], 1
        PUTS "BSP: broadcast: vector 41 to all excluding self", 10
        mov ecx, BCAST_VEC | ICR_FIXED | ICR_ASSERT | ICR_ALL_BUT_SELF
        xor eax, eax
        call send_ipi
        mov ecx, PHASE_US
        call deadline_after
.wait_bcast:
        cmp dword [turn], NCPUS
        je .bcast_done
        pause
        call past_deadline
        jnc .wait_bcast
        FAIL "not every AP answered the broadcast within 2 s"
.bcast_done:
        cmp dword [bcast_bad], 0
        je .bcast_ok
        FAIL "LOCK CMPXCHG did not find the turn it expected"
.bcast_ok:
        PUTS "BSP: broadcast: every AP answered in turn", 10

; ---- phase 3: a shared counter, LOCK XADD by every processor ----
        PUTS "BSP: counter: vector 42 to all excluding self, ", 0x30 + NCPUS, " x 1000 LOCK XADD", 10
        mov ecx, COUNT_VEC | ICR_FIXED | ICR_ASSERT | ICR_ALL_BUT_SELF
        xor eax, eax
        call send_ipi
        call count_loop
        mov ecx, PHASE_US
        call deadline_after
.wait_count:
        cmp dword [count_done], NCPUS - 1
        je .count_in
        pause
        call past_deadline
        jnc .wait_count
        FAIL "not every AP finished its increments within 2 s"
.count_in:
        mov eax, [counter]
        PUTS "BSP: counter = "
        PUTDEC eax
        PUTS " (expected ", 0x30 + NCPUS, "000)", 10
        cmp eax, NCPUS * COUNT_PER_CPU
        je .count_ok
        FAIL "the counter is wrong"
.count_ok:
        ; every XADD returned a different old value 0 .. 3999, so their sum is 3999 * 4000 / 2
        mov eax, [oldsum]
        PUTS "BSP: sum of the values XADD returned = "
        PUTDEC eax
        PUTS " (expected 7998000)", 10
        cmp eax, (NCPUS * COUNT_PER_CPU - 1) * NCPUS * COUNT_PER_CPU / 2
        je .sum_ok
        FAIL "XADD returned a wrong old value"
.sum_ok:

; ---- summary ----
        mov dword [LAPIC_ESR], 0        ; a write latches the errors, then read (SDM 10.5.3)
        mov eax, [LAPIC_ESR]
        PUTS "BSP: esr "
        PUTHEX eax, 8
        PUTS ", spurious interrupts "
        PUTDEC [spurious]
        PUTS ", ISR bits left set after EOI "
        PUTDEC [isr_stuck]
        PUTS 10
        test eax, eax
        jz .esr_ok
        FAIL "the BSP's APIC reports an error"
.esr_ok:
        cmp dword [isr_stuck], 0
        je .isr_ok
        FAIL "an EOI did not clear the ISR bit of the vector in service"
.isr_ok:
        cmp dword [spurious], 0
        je .spur_ok
        FAIL "a spurious interrupt was taken"
.spur_ok:
        PUTS "SMP test kernel: PASS", 10
        mov al, EXIT_PASS
        jmp exit

fail_exit:
        mov al, EXIT_FAIL
exit:   out DEBUG_EXIT, al              ; QEMU and vmxsim stop here
        ; Bochs has no isa-debug-exit: "Shutdown" to port 8900 stops it (test/system/bochs.ts)
        mov esi, shutdown_text
        mov dx, 0x8900
.sd:    lodsb
        test al, al
        jz .stop
        out dx, al
        jmp .sd
.stop:  cli
        hlt
        jmp .stop

; ---------------------------------------------------------------------------------------------------
; start_ap: INIT, 10 ms, SIPI, 200 us, SIPI, 200 us to the APIC ID in EBX (SDM 8.4.4.1)
start_ap:
        push eax
        push ecx
        mov eax, ebx
        mov ecx, ICR_INIT | ICR_ASSERT
        call send_ipi
        mov ecx, 10000
        call delay_us
        mov ecx, ICR_STARTUP | ICR_ASSERT | SIPI_VECTOR
        call send_ipi
        mov ecx, 200
        call delay_us
        mov ecx, ICR_STARTUP | ICR_ASSERT | SIPI_VECTOR   ; ignored if the AP already runs
        call send_ipi
        mov ecx, 200
        call delay_us
        pop ecx
        pop eax
        ret

; send_ipi: ICR high = EAX << 24 (destination), ICR low = ECX (the write sends), then wait for the
; delivery status to clear (SDM 10.6.1). Keeps every register.
send_ipi:
        push eax
        push edx
        shl eax, 24
        mov [LAPIC_ICR_HI], eax
        mov [LAPIC_ICR_LO], ecx
        mov edx, ICR_POLLS
.busy:  test dword [LAPIC_ICR_LO], ICR_BUSY
        jz .sent
        pause
        dec edx
        jnz .busy
        FAIL "the ICR delivery status is still 'send pending' after 1000000 reads"
.sent:  pop edx
        pop eax
        ret

; lapic_enable: TPR 0, LVT timer/LINT0/LINT1/error masked, SVR = enabled with vector FF. Every
; processor runs it (the BSP's LINT0/LINT1 may still be wired to the PIC/NMI by a BIOS).
lapic_enable:
        mov dword [LAPIC_TPR], 0
        mov dword [LAPIC_LVT_TIMER], LVT_MASKED
        mov dword [LAPIC_LVT_LINT0], LVT_MASKED
        mov dword [LAPIC_LVT_LINT1], LVT_MASKED
        mov dword [LAPIC_LVT_ERROR], LVT_MASKED
        mov dword [LAPIC_SVR], SVR_ENABLE | SPURIOUS_VEC
        ret

; my_index: EAX = this processor's index (0 = BSP), from its APIC ID
my_index:
        mov eax, [LAPIC_ID]
        shr eax, 24
        movzx eax, byte [cpu_index_of + eax]
        ret

; count_loop: 1000 x LOCK XADD [counter], 1; the old values are summed into oldsum
count_loop:
        pushad
        mov ecx, COUNT_PER_CPU
        xor edx, edx
.add:   mov eax, 1
        lock xadd [counter], eax
        add edx, eax
        dec ecx
        jnz .add
        lock add [oldsum], edx
        popad
        ret

; ---- time: RDTSC deadlines (assume a TSC of at most TSC_PER_US ticks per microsecond) ----
; deadline_after: deadline = now + ECX microseconds (kept in `deadline`, one per caller: BSP only)
deadline_after:
        push eax
        push edx
        push ebx
        mov eax, ecx
        mov ebx, TSC_PER_US
        mul ebx
        mov [deadline], eax
        mov [deadline + 4], edx
        rdtsc
        add [deadline], eax
        adc [deadline + 4], edx
        pop ebx
        pop edx
        pop eax
        ret

; past_deadline: CF = 1 when the TSC has reached `deadline`
past_deadline:
        push eax
        push edx
        rdtsc
        sub eax, [deadline]
        sbb edx, [deadline + 4]         ; CF = 1 while now < deadline
        cmc
        pop edx
        pop eax
        ret

; delay_us: spin ECX microseconds
delay_us:
        call deadline_after
.spin:  pause
        call past_deadline
        jnc .spin
        ret

; ---- printing (debugcon); all keep every register ----
puts:                                   ; ESI -> zero-terminated string
        push eax
        push esi
.next:  lodsb
        test al, al
        jz .done
        out DEBUGCON, al
        jmp .next
.done:  pop esi
        pop eax
        ret

putdec:                                 ; EAX unsigned
        pushad
        mov ebx, 10
        xor ecx, ecx
.div:   xor edx, edx
        div ebx
        push edx
        inc ecx
        test eax, eax
        jnz .div
.out:   pop eax
        add al, '0'
        out DEBUGCON, al
        dec ecx
        jnz .out
        popad
        ret

puthex:                                 ; the low ECX (1..8) hex digits of EAX
        pushad
        mov edx, eax
        mov ebx, 8
        sub ebx, ecx
        shl ebx, 2
        xchg ecx, ebx
        shl edx, cl                     ; the first digit to print is now the top nibble
        mov ecx, ebx
.digit: rol edx, 4
        mov al, dl
        and al, 0x0F
        add al, '0'
        cmp al, '9'
        jbe .put
        add al, 'a' - '9' - 1
.put:   out DEBUGCON, al
        dec ecx
        jnz .digit
        popad
        ret

; ---------------------------------------------------------------------------------------------------
; build_idt: every vector goes to its stub in `stubs` (unexpected: print, fail); then the three IPI
; vectors and the spurious vector get their own handlers. 32-bit interrupt gates (SDM 6.11).
build_idt:
        pushad
        xor ecx, ecx
.gate:  mov eax, ecx
        shl eax, 4
        add eax, stubs
        call set_gate
        inc ecx
        cmp ecx, 256
        jb .gate
        mov ecx, RING_VEC
        mov eax, ipi_ring
        call set_gate
        mov ecx, BCAST_VEC
        mov eax, ipi_bcast
        call set_gate
        mov ecx, COUNT_VEC
        mov eax, ipi_count
        call set_gate
        mov ecx, SPURIOUS_VEC
        mov eax, spurious_handler
        call set_gate
        popad
        ret

set_gate:                               ; ECX = vector, EAX = handler
        push edx
        mov edx, eax
        and edx, 0xFFFF
        or edx, KCODE << 16
        mov [idt + ecx * 8], edx
        mov edx, eax
        and edx, 0xFFFF0000
        or edx, 0x8E00                  ; present, DPL 0, 32-bit interrupt gate
        mov [idt + ecx * 8 + 4], edx
        pop edx
        ret

; ---- interrupt handlers ----
; vector 40: the ring. An AP prints, then passes the IPI on to the next processor (the last one to
; the BSP); the BSP closes the ring. Printing before sending keeps the lines in order.
ipi_ring:
        pushad
        call my_index
        mov ebx, eax
        mov edx, [LAPIC_ISR + (RING_VEC / 32) * 16]
        shr edx, RING_VEC % 32
        and edx, 1                      ; 1: vector 40 is in service (SDM 10.8.4)
        test ebx, ebx
        jnz .ap
        PUTS "BSP: ring: vector 40 came back (isr bit "
        PUTDEC edx
        PUTS "), ring closed", 10
        mov dword [ring_done], 1
        jmp .eoi
.ap:    lea eax, [ebx + 1]
        cmp eax, NCPUS
        jb .to
        xor eax, eax                    ; the last AP sends to the BSP
.to:    mov eax, [apic_ids + eax * 4]
        PUTS "AP "
        PUTDEC ebx
        PUTS ": ring: vector 40 (isr bit "
        PUTDEC edx
        PUTS "), passing it to apic id "
        PUTDEC eax
        PUTS 10
        mov ecx, RING_VEC | ICR_FIXED | ICR_ASSERT
        call send_ipi
.eoi:   EOI_CHECK RING_VEC
        popad
        iretd

; vector 41: the broadcast. Each AP takes the print lock (XCHG) and prints only when `turn` is its
; own index, then advances the turn with LOCK CMPXCHG and releases the lock.
ipi_bcast:
        pushad
        call my_index
        mov ebx, eax
.retry: mov eax, 1
.spin:  xchg eax, [print_lock]          ; locked by definition (SDM 8.1.2.1)
        test eax, eax
        jz .locked
        pause
        mov eax, 1
        jmp .spin
.locked:
        cmp [turn], ebx
        je .mine
        mov dword [print_lock], 0
        pause
        jmp .retry
.mine:  PUTS "AP "
        PUTDEC ebx
        PUTS ": broadcast: vector 41, my turn", 10
        mov eax, ebx
        lea ecx, [ebx + 1]
        lock cmpxchg [turn], ecx
        jz .advanced
        mov dword [bcast_bad], 1
.advanced:
        mov dword [print_lock], 0
        EOI_CHECK BCAST_VEC
        popad
        iretd

; vector 42: the counter
ipi_count:
        call count_loop
        EOI_CHECK COUNT_VEC
        lock inc dword [count_done]
        iretd

; the spurious vector: no EOI (SDM 10.9)
spurious_handler:
        lock inc dword [spurious]
        iretd

; any other vector or exception: say which, on which processor, and fail
unexpected:                             ; [ESP] = vector
        pop ebx
        PUTS "FAIL: unexpected vector "
        PUTHEX ebx, 2
        PUTS " on apic id "
        mov eax, [LAPIC_ID]
        shr eax, 24
        PUTDEC eax
        PUTS 10
        jmp fail_exit

align 16
stubs:
%assign v 0
%rep 256
        push dword v
        jmp near unexpected
        align 16, db 0xCC
%assign v v + 1
%endrep

; ---------------------------------------------------------------------------------------------------
; The AP trampoline: copied to TRAMP_BASE; an AP starts here in real mode with CS = 0800, IP = 0.
; Position-dependent addresses inside it are TRAMP_BASE + (label - tramp_start).
bits 16
tramp_start:
        cli
        cld
        xor ax, ax
        mov ds, ax
        o32 lgdt [TRAMP_BASE + (tramp_gdtr - tramp_start)]   ; o32: all 32 bits of the base
        mov eax, cr0
        or eax, 1                       ; PE (SDM 9.9.1)
        mov cr0, eax
        jmp dword KCODE:ap_entry        ; loads CS from the new GDT
tramp_gdtr:
        dw gdt_end - gdt - 1
        dd gdt
tramp_end:

bits 32
ap_entry:
        mov ax, KDATA
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov ss, ax
        mov ebx, [next_ap]              ; set by the BSP before the INIT; one AP starts at a time
        mov esp, ebx
        shl esp, 12
        add esp, ap_stacks              ; AP n's stack: ap_stacks + (n - 1) * 4096 .. + n * 4096
        lidt [idtr]
        call lapic_enable
        mov eax, [LAPIC_ID]
        shr eax, 24
        mov [apic_ids + ebx * 4], eax
        mov [cpu_index_of + eax], bl
        mov ecx, IA32_APIC_BASE
        rdmsr
        shr eax, 8
        and eax, 1
        PUTS "AP "
        PUTDEC ebx
        PUTS ": apic id "
        PUTDEC [apic_ids + ebx * 4]
        PUTS ", IA32_APIC_BASE bsp "
        PUTDEC eax
        PUTS 10
        mov [ap_ready], ebx             ; check in: the BSP goes on after this
        sti
.idle:  hlt                             ; the IPI handlers run from here
        jmp .idle

; ---------------------------------------------------------------------------------------------------
section .data
shutdown_text:  db "Shutdown", 0
align 8
gdt:
        dq 0
        dq 0x00CF9A000000FFFF           ; 08: flat 32-bit code, DPL 0
        dq 0x00CF92000000FFFF           ; 10: flat data, DPL 0
gdt_end:
align 4
        dw 0
gdtr:   dw gdt_end - gdt - 1
        dd gdt
        dw 0
idtr:   dw 256 * 8 - 1
        dd idt

section .bss nobits alloc noexec write align=16
idt:            resb 256 * 8
bsp_stack:      resb STACK_BYTES
ap_stacks:      resb STACK_BYTES * (NCPUS - 1)
apic_ids:       resd NCPUS              ; by processor index
cpu_index_of:   resb 256                ; by APIC ID
bsp_apic_id:    resd 1
next_ap:        resd 1
ap_ready:       resd 1
ring_done:      resd 1
turn:           resd 1
print_lock:     resd 1
bcast_bad:      resd 1
count_done:     resd 1
counter:        resd 1
oldsum:         resd 1
spurious:       resd 1
isr_stuck:      resd 1
deadline:       resd 2
