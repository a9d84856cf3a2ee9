; vmx.asm -- a bare-metal VMX conformance program: it detects and enables VMX, runs the VMX instruction
; error cases of kvm-unit-tests x86/vmx.c (test_vmxon, test_vmptrld, test_vmclear, test_vmptrst,
; test_vmwrite_vmread, test_vmcs_high, test_vmcs_lifecycle, test_vmx_caps), the VM-entry checks, then a
; guest that causes one VM exit after another, event injection, an EPT violation, and a CPUID round-trip
; benchmark. One line per case on the debug console (port E9H), e.g.
;   vmclear-vmxon-ptr: CF=0 ZF=1 err=3
;   exit cpuid: reason=10 len=2 qual=00000000
; The output is Bochs's (golden file expected.txt) and must be vmxsim's; lines starting with "bench:"
; carry cycle counts and are not compared.
;
; Follows Intel SDM Vol. 3C: 23.6-23.7 (discovering and enabling VMX: CPUID.1:ECX.VMX[5],
; IA32_FEATURE_CONTROL lock and enable-outside-SMX, CR0/CR4 fixed bits, CR4.VMXE), 30.2-30.3 (the VMX
; instructions with their order of checks; RFLAGS: VMsucceed clears CF, PF, AF, ZF, SF, OF; VMfailInvalid
; sets CF; VMfailValid sets ZF and the VM-instruction error field, Table 30-1), 24 (VMCS), 26.2-26.3
; (VM-entry checks on controls -> error 7, host state -> error 8, guest state -> exit reason
; 80000021H with exit qualification 0 or 4), 26.6 (event injection), 25.1-25.5 and 27.2 (instructions and
; events that exit; exit reason, qualification, instruction length and information, interruption
; information, guest-physical and guest-linear address), 28.2.3.2 (EPT-violation qualification),
; Appendix A (capabilities), C (exit reasons).
;
; Prints only what the architecture defines: no capability values (they differ between processors and
; emulators), exit-instruction lengths only for exits caused by instructions, qualification bits the SDM
; leaves undefined masked (EPT qualification bits 6 and 9-11, MWAIT's), instruction-information bits
; masked to the defined ones. A case whose capability is absent prints "n/a".
;
; Where Bochs 2.7 (the reference) departs from the SDM, the program avoids the case or prints less:
; VMCALL in VMX root with a current VMCS (Bochs: error 19 or a panic; SDM: error 1) is run only with no
; current VMCS; the exit qualification of a bad VMCS link pointer (Bochs 0, SDM 4) is not printed; the
; external-interrupt exit runs with guest IF = 1 (Bochs re-evaluates its interrupt mask only when IF
; changes at VM entry); the guest's HLT runs with IF = 1 (Bochs logs "HLT with IF=0" even when HLT
; exits, and the harness stops Bochs there).
;
; Leaves out: IA-32e (host and guest are 32-bit protected mode with paging), SMM and the dual-monitor
; treatment (errors 16-25), VMCS shadowing, posted interrupts and APIC virtualization, MSR-load/store
; lists, NMIs, unrestricted guest (a real-mode guest), multiple processors.
;
; Build: nasm -f bin -i test/system/kernels/ -i test/system/vmx/ [-DBENCH_ONLY] [-DDUMP_CAPS] vmx.asm
; (harness.ts). -DBENCH_ONLY: enable VMX, run only the benchmark. -DBENCH_N=n: benchmark iterations.

%include "lib/prologue.inc"
%include "vmx-defs.inc"

%ifndef BENCH_N
 %define BENCH_N 1000
%endif

kmain:
        mov dword [case_rflags], 2
        call detect_and_enable
        jc .out
        call read_caps
        call find_maxphy
%ifdef DUMP_CAPS
        call dump_caps
%endif
        call guest_idt_init
        call ept_init
%ifndef BENCH_ONLY
        call caps_check
        call vmxon_cases
        jc .out
        call vmcs_cases
        call entry_cases
        call exit_cases
        call event_cases
        call ept_cases
        call bench
        call invalidate_cases
        call vmxoff_cases
%else
        call vmxon_plain
        jc .out
        call bench
%endif
.out:   ret

; ======================================================================================================
; 1. Detection and enabling (SDM 23.6, 23.7)
; ======================================================================================================

; detect_and_enable: CPUID.1:ECX.VMX; paging on; VMXON without CR4.VMXE (#UD); CR4.VMXE; the
; IA32_FEATURE_CONTROL cases. CF=1: VMX is unusable (the run ends after the line saying why).
detect_and_enable:
        mov eax, 1
        cpuid
        PRINT "cpuid.1:ecx.vmx="
        bt ecx, 5
        setc al
        movzx eax, al
        PDEC eax
        NL
        test eax, eax
        jnz .vmx
        stc
        ret
.vmx:   call read_caps                  ; the capability MSRs exist once CPUID.1:ECX.VMX = 1 (A.1)
        call paging_init
        mov edi, VMXON_REGION
        call write_revision
        mov eax, VMXON_REGION
        call set_operand
        ; VMXON with CR4.VMXE = 0: #UD (SDM 30.3 VMXON, first check)
        CHECK "vmxon-cr4.vmxe=0", .ud_r
        EXCBASE .ud
.ud:    vmxon [operand]
.ud_r:  ENDCHECK
        ; CR4.VMXE may be set now (allowed by IA32_VMX_CR4_FIXED1, A.8)
        mov eax, cr4
        or eax, CR4_VMXE
        mov cr4, eax
        mov eax, cr4
        PRINT "cr4.vmxe-set:"
        and eax, CR4_VMXE
        shr eax, 13
        PVAL "vmxe", eax
        NL
        ; IA32_FEATURE_CONTROL: the firmware (here: nobody) leaves it 0 after reset
        mov ecx, MSR_FEATURE_CONTROL
        rdmsr
        mov [fc_initial], eax
        PRINT "feature-control-at-reset:"
        mov ebx, eax
        and eax, FC_LOCK
        PVAL "lock", eax
        mov eax, ebx
        and eax, FC_VMX_OUTSIDE_SMX
        shr eax, 2
        PVAL "vmx-outside-smx", eax
        NL
        test ebx, FC_LOCK
        jz .unlocked
        test ebx, FC_VMX_OUTSIDE_SMX
        jnz .enabled
        LINE "vmx: disabled and locked by IA32_FEATURE_CONTROL"
        stc
        ret
.unlocked:
        ; VMXON with IA32_FEATURE_CONTROL = 0 and with only the enable bit: #GP(0) (kvm-unit-tests
        ; test_vmx_feature_control; SDM 30.3 VMXON: lock bit 0 or enable bit 0 -> #GP)
        xor eax, eax
        xor edx, edx
        wrmsr
        CHECK "vmxon-feature-control=0", .gp1_r
        EXCBASE .gp1
.gp1:   vmxon [operand]
.gp1_r: ENDCHECK
        mov eax, FC_VMX_OUTSIDE_SMX
        xor edx, edx
        wrmsr
        CHECK "vmxon-feature-control-unlocked", .gp2_r
        EXCBASE .gp2
.gp2:   vmxon [operand]
.gp2_r: ENDCHECK
        mov eax, FC_LOCK | FC_VMX_OUTSIDE_SMX
        xor edx, edx
        wrmsr
        rdmsr
        PRINT "feature-control-locked:"
        PVAL "value", eax
        NL
        CHECK "wrmsr-feature-control-locked", .gp3_r
        EXCBASE .gp3
        mov eax, FC_VMX_OUTSIDE_SMX
.gp3:   wrmsr
.gp3_r: ENDCHECK
.enabled:
        ; CR0.NE = 0 violates IA32_VMX_CR0_FIXED0: VMXON #GP(0) (kvm-unit-tests test_vmxon_bad_cr)
        test dword [caps_cr0f0], CR0_NE
        jz .ne_na
        mov eax, cr0
        and eax, ~CR0_NE
        mov cr0, eax
        CHECK "vmxon-cr0.ne=0", .gp4_r
        EXCBASE .gp4
.gp4:   vmxon [operand]
.gp4_r: ENDCHECK
        mov eax, cr0
        or eax, CR0_NE
        mov cr0, eax
        jmp .ne_done
.ne_na: LINE "vmxon-cr0.ne=0: n/a"
.ne_done:
        clc
        ret

; caps_check: the invariants of the capability MSRs that kvm-unit-tests test_vmx_caps and the SDM
; state: IA32_VMX_BASIC[31] = 0, region size 1..4096 bytes, memory type WB (6) (A.1); for every control
; MSR, no bit is allowed-0 = 1 with allowed-1 = 0 (A.3); a TRUE MSR allows the same 1-settings as its
; plain MSR and its 0-settings are a superset (A.2); CR0/CR4 FIXED0 within FIXED1 (A.7, A.8);
; at least 4 CR3-target values (A.6: 24:16).
caps_check:
        pushad
        PRINT "vmx-caps:"
        xor ebp, ebp                    ; failures
        test dword [caps_basic_lo], 0x80000000
        jz .b1
        PRINT " basic[31]"
        inc ebp
.b1:    mov eax, [caps_basic_hi]
        and eax, 0x1FFF
        jz .bsz
        cmp eax, 4096
        jbe .b2
.bsz:   PRINT " region-size"
        inc ebp
.b2:    mov eax, [caps_basic_hi]
        shr eax, 50 - 32
        and eax, 0xF
        cmp eax, 6
        je .b3
        PRINT " memory-type"
        inc ebp
.b3:    xor ebx, ebx
.ctl:   mov eax, [caps_a0 + ebx * 4]
        mov edx, [caps_a1 + ebx * 4]
        not edx
        test eax, edx
        jz .c1
        PRINT " allowed0-not-in-allowed1:"
        PDEC ebx
        inc ebp
.c1:    mov eax, [caps_a1 + ebx * 4]
        cmp eax, [caps_plain_a1 + ebx * 4]
        je .c2
        PRINT " true-allowed1-differs:"
        PDEC ebx
        inc ebp
.c2:    mov eax, [caps_a0 + ebx * 4]
        mov edx, [caps_plain_a0 + ebx * 4]
        not edx
        test eax, edx
        jz .c3
        PRINT " true-allowed0-not-subset:"
        PDEC ebx
        inc ebp
.c3:    inc ebx
        cmp ebx, 5
        jb .ctl
        mov eax, [caps_cr0f1]
        not eax
        test eax, [caps_cr0f0]
        jz .f1
        PRINT " cr0-fixed"
        inc ebp
.f1:    mov eax, [caps_cr4f1]
        not eax
        test eax, [caps_cr4f0]
        jz .f2
        PRINT " cr4-fixed"
        inc ebp
.f2:    test dword [caps_cr4f0], CR4_VMXE
        jnz .f3
        PRINT " cr4-fixed0-without-vmxe"
        inc ebp
.f3:    mov eax, [caps_misc]
        shr eax, 16
        and eax, 0x1FF
        cmp eax, 4
        jae .f4
        PRINT " cr3-targets"
        inc ebp
.f4:    test ebp, ebp
        jnz .out
        PRINT " consistent"
.out:   NL
        popad
        ret

%ifdef DUMP_CAPS
dump_caps:
        pushad
        PRINT "caps: basic="
        PHEX32 [caps_basic_hi]
        PHEX32 [caps_basic_lo]
        PRINT " misc="
        PHEX32 [caps_misc]
        PRINT " ept="
        PHEX32 [caps_ept_hi]
        PHEX32 [caps_ept_lo]
        PRINT " maxphy="
        PDEC [maxphy]
        NL
        xor ebx, ebx
.l:     PRINT "caps: ctl"
        PDEC ebx
        PVAL "a0", [caps_a0 + ebx * 4]
        PVAL "a1", [caps_a1 + ebx * 4]
        PVAL "plain-a0", [caps_plain_a0 + ebx * 4]
        PVAL "plain-a1", [caps_plain_a1 + ebx * 4]
        NL
        inc ebx
        cmp ebx, 5
        jb .l
        PRINT "caps: cr0f0="
        PHEX32 [caps_cr0f0]
        PVAL "cr0f1", [caps_cr0f1]
        PVAL "cr4f0", [caps_cr4f0]
        PVAL "cr4f1", [caps_cr4f1]
        NL
        popad
        ret
%endif

; ======================================================================================================
; 2. VMX instructions and their errors (SDM 30.3; kvm-unit-tests x86/vmx.c)
; ======================================================================================================

; vmxon_plain: VMXON only (the benchmark build). CF=1 if it failed.
vmxon_plain:
        mov eax, VMXON_REGION
        call set_operand
        vmxon [operand]
        jbe .bad
        clc
        ret
.bad:   PRINT "vmxon:"
        RESULT
        NL
        stc
        ret

; vmxon_cases: VMXON's VMfailInvalid cases, then VMXON. CF=1 if VMXON failed (nothing else can run).
vmxon_cases:
        ; unaligned region (test_vmxon: VMfailInvalid)
        PRINT "vmxon-unaligned:"
        mov eax, VMXON_REGION + 1
        call set_operand
        PRESET
        vmxon [operand]
        RESULT
        NL
        PRINT "vmxon-beyond-maxphyaddr:"
        mov eax, VMXON_REGION
        call set_operand_beyond
        PRESET
        vmxon [operand]
        RESULT
        NL
        PRINT "vmxon-bad-revision:"
        mov edi, BAD_REGION
        call write_revision
        xor dword [BAD_REGION], 0x7FFFFFFF
        mov eax, BAD_REGION
        call set_operand
        PRESET
        vmxon [operand]
        RESULT
        NL
        PRINT "vmxon:"
        mov eax, VMXON_REGION
        call set_operand
        PRESET
        vmxon [operand]
        RESULT
        NL
        jbe .failed
        clc
        ret
.failed:
        stc
        ret

; vmcs_cases: the VMCS-pointer instructions, VMREAD/VMWRITE, lifecycle
vmcs_cases:
        ; no current VMCS yet: VMPTRST stores FFFFFFFF_FFFFFFFF (test_vmptrst), VMREAD fails invalid
        PRINT "vmptrst-none:"
        mov dword [operand], 0x12345678
        mov dword [operand + 4], 0x12345678
        PRESET
        vmptrst [operand]
        RESULT
        PRINT " ptr="
        PHEX32 [operand + 4]
        PRINT "_"
        PHEX32 [operand]
        NL
        PRINT "vmread-no-current-vmcs:"
        mov edx, GUEST_RIP
        PRESET
        vmread eax, edx
        RESULT
        NL
        ; VMCALL in VMX root operation is VMfail(1) (SDM 30.3 VMCALL, IA32_SMM_MONITOR_CTL[0] = 0); with
        ; no current VMCS that is VMfailInvalid. Only that form is here: Bochs 2.7 goes on to the
        ; dual-monitor activation instead (error 19 with a launched VMCS, a "not implemented" panic with
        ; a clear one), so VMfailValid(1) is left to the table-driven tests.
        PRINT "vmcall-in-root-no-current-vmcs:"
        PRESET
        vmcall
        RESULT
        NL
        PRINT "vmxon-in-root-no-current-vmcs:"
        mov eax, VMXON_REGION
        call set_operand
        PRESET
        vmxon [operand]
        RESULT
        NL
        ; VMCLEAR then VMPTRLD of a fresh region
        mov edi, VMCS_A
        call write_revision
        mov edi, VMCS_B
        call write_revision
        PRINT "vmclear:"
        mov eax, VMCS_A
        call set_operand
        PRESET
        vmclear [operand]
        RESULT
        NL
        PRINT "vmptrld:"
        PRESET
        vmptrld [operand]
        RESULT
        NL
        PRINT "vmptrst:"
        mov dword [operand], 0
        mov dword [operand + 4], 0
        PRESET
        vmptrst [operand]
        RESULT
        PRINT " ptr="
        PHEX32 [operand + 4]
        PRINT "_"
        PHEX32 [operand]
        NL
        ; with a current VMCS the failures are VMfailValid(n)
        PRINT "vmxon-in-root:"
        mov eax, VMXON_REGION
        call set_operand
        PRESET
        vmxon [operand]
        RESULT
        NL
        PRINT "vmclear-unaligned:"
        mov eax, VMCS_B + 1
        call set_operand
        PRESET
        vmclear [operand]
        RESULT
        NL
        PRINT "vmclear-beyond-maxphyaddr:"
        mov eax, VMCS_B
        call set_operand_beyond
        PRESET
        vmclear [operand]
        RESULT
        NL
        PRINT "vmclear-vmxon-ptr:"
        mov eax, VMXON_REGION
        call set_operand
        PRESET
        vmclear [operand]
        RESULT
        NL
        PRINT "vmptrld-unaligned:"
        mov eax, VMCS_B + 1
        call set_operand
        PRESET
        vmptrld [operand]
        RESULT
        NL
        PRINT "vmptrld-beyond-maxphyaddr:"
        mov eax, VMCS_B
        call set_operand_beyond
        PRESET
        vmptrld [operand]
        RESULT
        NL
        PRINT "vmptrld-vmxon-ptr:"
        mov eax, VMXON_REGION
        call set_operand
        PRESET
        vmptrld [operand]
        RESULT
        NL
        PRINT "vmptrld-bad-revision:"
        mov eax, BAD_REGION
        call set_operand
        PRESET
        vmptrld [operand]
        RESULT
        NL
        PRINT "vmptrst-after-failures:"
        vmptrst [operand]
        PRINT " ptr="
        PHEX32 [operand + 4]
        PRINT "_"
        PHEX32 [operand]
        NL
        ; VMREAD/VMWRITE (test_vmwrite_vmread, test_vmcs_high; SDM 24.11.2)
        PRINT "vmwrite:"
        mov edx, GUEST_RSP
        mov eax, 0x12345678
        PRESET
        vmwrite edx, eax
        RESULT
        NL
        PRINT "vmread:"
        mov edx, GUEST_RSP
        xor eax, eax
        PRESET
        vmread eax, edx
        RESULT
        PVAL "value", eax
        NL
        PRINT "vmread-memory-operand:"
        mov edx, GUEST_RSP
        mov dword [tmp0], 0
        PRESET
        vmread [tmp0], edx
        RESULT
        PVAL "value", [tmp0]
        NL
        PRINT "vmwrite-16bit-truncates:"
        mov edx, GUEST_ES_SEL
        mov eax, 0xABCD0010
        vmwrite edx, eax
        vmread eax, edx
        RESULT
        PVAL "value", eax
        NL
        PRINT "vmwrite-full-read-high:"
        mov edx, TSC_OFFSET_HIGH
        mov eax, 0x89ABCDEF
        vmwrite edx, eax
        mov edx, TSC_OFFSET_FULL
        mov eax, 0x01234567
        vmwrite edx, eax                ; a FULL write from 32-bit code clears bits 63:32 (SDM 24.11.2)
        RESULT
        mov edx, TSC_OFFSET_HIGH
        vmread eax, edx
        PVAL "high", eax
        mov edx, TSC_OFFSET_FULL
        vmread eax, edx
        PVAL "full", eax
        NL
        PRINT "vmwrite-high-read-high:"
        mov edx, TSC_OFFSET_HIGH
        mov eax, 0x76543210
        vmwrite edx, eax
        RESULT
        vmread eax, edx
        PVAL "high", eax
        mov edx, TSC_OFFSET_FULL
        vmread eax, edx
        PVAL "full", eax
        NL
        PRINT "vmread-unsupported-field:"
        mov edx, 0xFFFFFFFF
        PRESET
        vmread eax, edx
        RESULT
        NL
        PRINT "vmwrite-unsupported-field:"
        mov edx, 0x00001000              ; bit 12 is reserved in an encoding (Table 24-21)
        xor eax, eax
        PRESET
        vmwrite edx, eax
        RESULT
        NL
        PRINT "vmread-high-of-32bit-field:"
        mov edx, EXIT_CONTROLS | 1      ; HIGH access type on a 32-bit field
        PRESET
        vmread eax, edx
        RESULT
        NL
        PRINT "vmwrite-read-only-field:"
        test dword [caps_misc], 1 << 29 ; IA32_VMX_MISC[29]: VMWRITE to any field (A.6)
        jnz .ro_any
        mov edx, EXIT_REASON
        xor eax, eax
        PRESET
        vmwrite edx, eax
        RESULT
        NL
        jmp .ro_done
.ro_any:
        LINE " n/a"
.ro_done:
        PRINT "success-keeps-error-field:"
        mov edx, GUEST_RSP
        vmread eax, edx
        RESULT
        call print_vmcs_error
        NL
        ; test_vmcs_lifecycle / test_vmclear_flushing: data lives in the region across VMCLEAR/VMPTRLD
        mov edx, GUEST_RSP
        mov eax, 0xAAAA0001
        vmwrite edx, eax                ; in VMCS_A (current)
        mov eax, VMCS_B
        call set_operand
        vmclear [operand]
        vmptrld [operand]
        mov eax, 0xBBBB0002
        vmwrite edx, eax                ; in VMCS_B
        PRINT "vmcs-b-current:"
        vmptrst [operand]
        PVAL "ptr", [operand]
        vmread eax, edx
        PVAL "value", eax
        NL
        PRINT "vmptrld-a-again:"
        mov eax, VMCS_A
        call set_operand
        PRESET
        vmptrld [operand]
        RESULT
        vmread eax, edx
        PVAL "value", eax
        NL
        PRINT "vmptrld-current-keeps-writes:"
        mov eax, 0xAAAA0003
        vmwrite edx, eax
        vmptrld [operand]
        vmread eax, edx
        PVAL "value", eax
        NL
        PRINT "vmclear-then-vmptrld:"
        vmclear [operand]
        vmptrst [operand + 0]           ; VMCLEAR of the current VMCS leaves none current
        PVAL "ptr-after-vmclear", [operand]
        mov eax, VMCS_A
        call set_operand
        vmptrld [operand]
        vmread eax, edx
        PVAL "value", eax
        NL
        PRINT "vmclear-copy-vmptrld:"   ; copy the region after VMCLEAR, load the copy
        vmclear [operand]
        mov esi, VMCS_A
        mov edi, VMCS_C
        mov ecx, 1024
        rep movsd
        mov eax, VMCS_C
        call set_operand
        PRESET
        vmptrld [operand]
        RESULT
        vmread eax, edx
        PVAL "value", eax
        NL
        PRINT "vmcs-b-kept:"
        mov eax, VMCS_B
        call set_operand
        vmptrld [operand]
        vmread eax, edx
        PVAL "value", eax
        NL
        ret

; ======================================================================================================
; 3. VM entry: launch state, control / host / guest checks (SDM 26.1-26.3, 30.3 VMLAUNCH/VMRESUME)
; ======================================================================================================

entry_cases:
        call vmcs_setup
        PRINT "vmresume-clear-vmcs:"
        mov dword [launched], 1         ; VMRESUME on a VMCS that was never launched: error 5
        call vm_enter
        mov dword [launched], 0
        call print_entry_result
        ; control-field checks (26.2.1): error 7
        PRINT "entry-cr3-target-count-5:"
        VMW CR3_TARGET_COUNT, 5
        call vm_enter
        call print_entry_result
        VMW CR3_TARGET_COUNT, 0
        PRINT "entry-io-bitmap-unaligned:"
        SETCTL CTL_PROC, PROC_USE_IO_BITMAPS, .iobm_na
        VMW IO_BITMAP_A_FULL, IO_BITMAP_A + 1
        VMW IO_BITMAP_A_HIGH, 0
        VMW IO_BITMAP_B_FULL, IO_BITMAP_B
        VMW IO_BITMAP_B_HIGH, 0
        call vm_enter
        call print_entry_result
        jmp .iobm_done
.iobm_na:
        LINE " n/a"
.iobm_done:
        SETCTL CTL_PROC, 0, .bad
        PRINT "entry-pin-reserved-bit:"
        mov eax, [caps_a1 + CTL_PIN * 4]
        not eax
        bsr eax, eax                    ; the highest pin-based bit that must be 0
        jz .pin_na
        mov ecx, eax
        mov eax, 1
        shl eax, cl
        mov ebx, CTL_PIN
        push eax
        xor eax, eax
        call ctl_adjust
        pop ecx
        or eax, ecx
        VMW PIN_CONTROLS, eax
        call vm_enter
        call print_entry_result
        jmp .pin_done
.pin_na:
        LINE " n/a"
.pin_done:
        SETCTL CTL_PIN, 0, .bad
        PRINT "entry-save-timer-without-timer:" ; "save VMX-preemption timer value" needs the timer (26.2.1.2)
        mov eax, EXIT_SAVE_TIMER
        mov ebx, CTL_EXIT
        call has_cap
        jc .st_na
        SETCTL CTL_EXIT, EXIT_SAVE_TIMER, .st_na
        call vm_enter
        call print_entry_result
        SETCTL CTL_EXIT, 0, .bad
        jmp .st_done
.st_na: LINE " n/a"
.st_done:
        PRINT "entry-bad-injection-vector:"  ; NMI type with vector 3 (26.2.1.3)
        VMW ENTRY_INTR_INFO, 0x80000203
        call vm_enter
        call print_entry_result
        VMW ENTRY_INTR_INFO, 0
        ; host-state checks (26.2.2, 26.2.3): error 8
        PRINT "entry-host-tr-selector-0:"
        VMW HOST_TR_SEL, 0
        call vm_enter
        call print_entry_result
        VMW HOST_TR_SEL, TSS_SEL
        PRINT "entry-host-ss-rpl-3:"
        VMW HOST_SS_SEL, KDATA | 3
        call vm_enter
        call print_entry_result
        VMW HOST_SS_SEL, KDATA
        PRINT "entry-host-cr0-pg-0:"
        mov eax, cr0
        and eax, ~CR0_PG
        VMW HOST_CR0, eax
        call vm_enter
        call print_entry_result
        mov eax, cr0
        VMW HOST_CR0, eax
        PRINT "entry-host-cr4-vmxe-0:"
        mov eax, cr4
        and eax, ~CR4_VMXE
        VMW HOST_CR4, eax
        call vm_enter
        call print_entry_result
        mov eax, cr4
        VMW HOST_CR4, eax
        ; guest-state checks (26.3.1): a VM exit with reason 80000021H, host state loaded
        PRINT "entry-guest-rflags-bit1-0:"
        VMW GUEST_RFLAGS, 0
        call vm_enter
        call print_entry_result
        VMW GUEST_RFLAGS, 2
        ; (the SDM gives exit qualification 4 for a bad VMCS link pointer (26.8); Bochs 2.7 gives 0,
        ; so only the reason is printed here)
        PRINT "entry-guest-link-pointer-unaligned:"
        VMW LINK_PTR_FULL, 1
        VMW LINK_PTR_HIGH, 0
        call vm_enter
        call print_entry_reason
        VMW LINK_PTR_FULL, 0xFFFFFFFF
        VMW LINK_PTR_HIGH, 0xFFFFFFFF
        PRINT "entry-guest-cr0-pg-0:"
        mov eax, cr0
        and eax, ~CR0_PG
        VMW GUEST_CR0, eax
        call vm_enter
        call print_entry_result
        mov eax, cr0
        VMW GUEST_CR0, eax
        PRINT "entry-guest-tr-unusable:"
        VMW GUEST_TR_AR, 0x1008B
        call vm_enter
        call print_entry_result
        VMW GUEST_TR_AR, 0x008B
        PRINT "entry-guest-activity-state-5:"
        VMW GUEST_ACTIVITY, 5
        call vm_enter
        call print_entry_result
        VMW GUEST_ACTIVITY, 0
        ; a good VM entry: VMLAUNCH, the guest's VMCALL exits; VMLAUNCH again fails (4)
        PRINT "vmlaunch:"
        VMW GUEST_RIP, g_vmcall
        call vm_enter
        call print_entry_result
        PRINT "vmlaunch-launched-vmcs:"
        mov dword [launched], 0
        call vm_enter
        mov dword [launched], 1
        call print_entry_result
        PRINT "vmresume:"
        VMW GUEST_RIP, g_vmcall
        call vm_enter
        call print_entry_result
        PRINT "vmresume-mov-ss-blocking:"   ; VMRESUME right after MOV SS: error 26 (30.3)
        VMW GUEST_RIP, g_vmcall
        call vm_resume_mov_ss
        call print_entry_result
        ret
.bad:   LINE "FAIL controls"
        jmp finish

; print_entry_reason: after vm_enter: as print_entry_result, without the exit qualification
print_entry_reason:
        pushad
        cmp dword [entry_failed], 0
        jne .failed
        xor ebx, ebx
        call print_exit
        NL
        popad
        ret
.failed:
        popad
        jmp print_entry_result

; print_entry_result: after vm_enter: " CF ZF err" for a VMfail, or the exit (reason and qualification)
print_entry_result:
        pushad
        cmp dword [entry_failed], 0
        je .exit
        push dword [entry_flags]
        popfd
        RESULT
        NL
        popad
        ret
.exit:  mov ebx, PX_QUAL
        call print_exit
        NL
        popad
        ret

; ======================================================================================================
; 4. VM exits, one reason at a time (SDM 25.1-25.5, 27.2)
; ======================================================================================================


exit_cases:
        call vmcs_baseline_controls
        ; unconditional exits
        EXITCASE "exit vmcall", g_vmcall_twice, PX_LEN | PX_QUAL
        EXITCASE "exit cpuid", g_cpuid, PX_LEN | PX_QUAL
        EXITCASE "exit invd", g_invd, PX_LEN | PX_QUAL
        ; conditional exits, one control at a time
        SETCTL CTL_PROC, PROC_HLT_EXITING, .hlt_na
        mov dword [case_rflags], 2 | FL_IF      ; (Bochs warns of, and the harness stops at, HLT with IF=0)
        EXITCASE "exit hlt", g_hlt, PX_LEN | PX_QUAL
        jmp .hlt_done
.hlt_na: NA "exit hlt"
.hlt_done:
        SETCTL CTL_PROC, PROC_INVLPG_EXITING, .invlpg_na
        EXITCASE "exit invlpg", g_invlpg, PX_LEN | PX_QUAL
        jmp .invlpg_done
.invlpg_na: NA "exit invlpg"
.invlpg_done:
        SETCTL CTL_PROC, PROC_RDTSC_EXITING, .rdtsc_na
        EXITCASE "exit rdtsc", g_rdtsc, PX_LEN | PX_QUAL
        jmp .rdtsc_done
.rdtsc_na: NA "exit rdtsc"
.rdtsc_done:
        SETCTL CTL_PROC, PROC_RDPMC_EXITING, .rdpmc_na
        EXITCASE "exit rdpmc", g_rdpmc, PX_LEN | PX_QUAL
        jmp .rdpmc_done
.rdpmc_na: NA "exit rdpmc"
.rdpmc_done:
        SETCTL CTL_PROC, PROC_PAUSE_EXITING, .pause_na
        EXITCASE "exit pause", g_pause, PX_LEN | PX_QUAL
        jmp .pause_done
.pause_na: NA "exit pause"
.pause_done:
        ; MONITOR/MWAIT only where CPUID.1:ECX.MONITOR[3] says they exist (else they are #UD)
        mov eax, 1
        cpuid
        test ecx, 1 << 3
        jz .mon_na
        SETCTL CTL_PROC, PROC_MONITOR_EXITING, .mon_na
        EXITCASE "exit monitor", g_monitor, PX_LEN | PX_QUAL
        SETCTL CTL_PROC, PROC_MWAIT_EXITING, .mon_na
        EXITCASE "exit mwait", g_mwait, PX_LEN
        jmp .mon_done
.mon_na: NA "exit monitor"
        NA "exit mwait"
.mon_done:
        SETCTL CTL_PROC, PROC_SECONDARY, .wbinvd_na
        SETCTL CTL_PROC2, PROC2_WBINVD_EXITING, .wbinvd_na
        EXITCASE "exit wbinvd", g_wbinvd, PX_LEN | PX_QUAL
        VMW PROC2_CONTROLS, 0
        jmp .wbinvd_done
.wbinvd_na: NA "exit wbinvd"
.wbinvd_done:
        SETCTL CTL_PROC, 0, .bad
        ; RDTSC without exiting, with TSC offsetting (25.3): the guest's TSC is the host's + offset
        SETCTL CTL_PROC, 1 << 3, .tsco_na
        VMW TSC_OFFSET_FULL, 0
        VMW TSC_OFFSET_HIGH, 0x40000000
        GCASE "rdtsc-offset", g_rdtsc_offset
        jc .tsco_done
        mov ebx, PX_LEN
        call print_exit
        mov eax, [gd_value]
        shr eax, 30
        PVAL "guest-tsc-bits63:62", eax
        NL
        VMW TSC_OFFSET_HIGH, 0
        jmp .tsco_done
.tsco_na: NA "rdtsc-offset"
.tsco_done:
        SETCTL CTL_PROC, 0, .bad

        ; VMX instructions in VMX non-root operation (25.1.2), instruction information (27.2.5)
        EXITCASE "exit vmlaunch", g_vmlaunch, PX_LEN | PX_QUAL
        EXITCASE "exit vmresume", g_vmresume, PX_LEN | PX_QUAL
        EXITCASE "exit vmxoff", g_vmxoff, PX_LEN | PX_QUAL
        ; memory operand: scaling 1:0, address size 9:7, mem/reg 10, segment 17:15, index 21:18 and
        ; 22, base 26:23 and 27 are defined (Table 27-13); the qualification is the displacement
        GCASE "exit vmptrst", g_vmptrst
        jc .vmptrst_done
        mov dword [insn_mask], 0x0FFF8783
        mov ebx, PX_LEN | PX_QUAL | PX_INSN
        call print_exit
        call finish_len
.vmptrst_done:
        GCASE "exit vmclear", g_vmclear
        jc .vmclear_done
        mov dword [insn_mask], 0x0FFF8783
        mov ebx, PX_LEN | PX_QUAL | PX_INSN
        call print_exit
        call finish_len
.vmclear_done:
        GCASE "exit vmptrld", g_vmptrld
        jc .vmptrld_done
        mov dword [insn_mask], 0x0FFF8783
        mov ebx, PX_LEN | PX_QUAL | PX_INSN
        call print_exit
        call finish_len
.vmptrld_done:
        GCASE "exit vmxon", g_vmxon
        jc .vmxon_done
        mov dword [insn_mask], 0x0FFF8783
        mov ebx, PX_LEN | PX_QUAL | PX_INSN
        call print_exit
        call finish_len
.vmxon_done:
        ; register operands of VMREAD/VMWRITE: reg1 6:3, mem/reg 10, reg2 31:28 defined (Table 27-14)
        GCASE "exit vmread", g_vmread
        jc .vmread_done
        mov dword [insn_mask], 0xF0000478
        mov ebx, PX_LEN | PX_INSN
        call print_exit
        call finish_len
.vmread_done:
        GCASE "exit vmwrite", g_vmwrite
        jc .vmwrite_done
        mov dword [insn_mask], 0xF0000478
        mov ebx, PX_LEN | PX_INSN
        call print_exit
        call finish_len
.vmwrite_done:
        ; INVEPT/INVVPID exit unconditionally where they exist (#UD where the processor lacks them)
        test dword [caps_ept_lo], 1 << 20
        jz .invept_na
        GCASE "exit invept", g_invept
        jc .invept_done
        mov dword [insn_mask], 0xFFFF8383
        mov ebx, PX_LEN | PX_QUAL | PX_INSN
        call print_exit
        call finish_len
        jmp .invept_done
.invept_na: NA "exit invept"
.invept_done:
        test dword [caps_ept_hi], 1 << (32 - 32)
        jz .invvpid_na
        GCASE "exit invvpid", g_invvpid
        jc .invvpid_done
        mov dword [insn_mask], 0xFFFF8383
        mov ebx, PX_LEN | PX_QUAL | PX_INSN
        call print_exit
        call finish_len
        jmp .invvpid_done
.invvpid_na: NA "exit invvpid"
.invvpid_done:

        ; control registers (25.1.3; qualification Table 27-3)
        VMW CR0_GUEST_HOST_MASK, CR0_TS
        VMW CR0_READ_SHADOW, CR0_TS
        mov eax, cr0
        and eax, ~CR0_TS
        VMW GUEST_CR0, eax
        GCASE "exit mov-cr0", g_cr0_ts
        jc .cr0_done
        mov ebx, PX_LEN | PX_QUAL
        call print_exit
        PVAL "guest-read-ts", [gd_value]
        call finish_len
.cr0_done:
        GCASE "mov-cr0-matching-shadow", g_cr0_same
        jc .cr0s_done
        mov ebx, PX_LEN
        call print_exit
        VMR GUEST_CR0
        and eax, CR0_TS
        PVAL "guest-cr0.ts", eax
        NL
.cr0s_done:
        EXITCASE "exit clts", g_clts, PX_LEN | PX_QUAL
        VMW CR0_GUEST_HOST_MASK, CR0_MP
        VMW CR0_READ_SHADOW, 0
        EXITCASE "exit lmsw", g_lmsw, PX_LEN | PX_QUAL
        VMW CR0_GUEST_HOST_MASK, 0
        mov eax, cr0
        VMW GUEST_CR0, eax
        VMW CR4_GUEST_HOST_MASK, CR4_VMXE
        VMW CR4_READ_SHADOW, 0
        GCASE "exit mov-cr4", g_cr4
        jc .cr4_done
        mov ebx, PX_LEN | PX_QUAL
        call print_exit
        PVAL "guest-read-vmxe", [gd_value]
        VMR GUEST_CR4
        and eax, CR4_VMXE
        shr eax, 13
        PVAL "guest-cr4.vmxe", eax
        call finish_len
.cr4_done:
        VMW CR4_GUEST_HOST_MASK, 0
        SETCTL CTL_PROC, PROC_CR3_STORE_EXITING, .cr3s_na
        EXITCASE "exit mov-from-cr3", g_cr3_store, PX_LEN | PX_QUAL
        jmp .cr3s_done
.cr3s_na: NA "exit mov-from-cr3"
.cr3s_done:
        SETCTL CTL_PROC, PROC_CR3_LOAD_EXITING, .cr3l_na
        EXITCASE "exit mov-to-cr3", g_cr3_load, PX_LEN | PX_QUAL
        VMW CR3_TARGET_COUNT, 1         ; a CR3-target value: that load does not exit (25.1.3)
        VMW CR3_TARGET0, PAGE_DIR
        GCASE "mov-to-cr3-target-value", g_cr3_load
        jc .cr3l_t
        mov ebx, PX_LEN
        call print_exit
        NL
.cr3l_t:
        VMW CR3_TARGET_COUNT, 0
        jmp .cr3l_done
.cr3l_na: NA "exit mov-to-cr3"
        NA "mov-to-cr3-target-value"
.cr3l_done:
        SETCTL CTL_PROC, 0, .bad

        ; I/O (25.1.3; qualification Table 27-5: size-1 in 2:0, IN in 3, string 4, REP 5, immediate 6,
        ; port 31:16)
        SETCTL CTL_PROC, PROC_UNCOND_IO_EXITING, .uio_na
        EXITCASE "exit out-imm8", g_out80, PX_LEN | PX_QUAL
        EXITCASE "exit in-dx-dword", g_in_dx_dword, PX_LEN | PX_QUAL
        EXITCASE "exit rep-outsb", g_rep_outsb, PX_LEN | PX_QUAL | PX_GLA
        jmp .uio_done
.uio_na: NA "exit out-imm8"
.uio_done:
        ; I/O bitmaps: A covers 0000-7FFF, B 8000-FFFF; an access exits if a bit of any byte is set
        mov edi, IO_BITMAP_A
        xor eax, eax
        mov ecx, 2 * 1024
        rep stosd
        mov eax, 0x3F8
        bts [IO_BITMAP_A], eax
        mov eax, 0x9000 - 0x8000
        bts [IO_BITMAP_B], eax
        bts dword [IO_BITMAP_B], 0         ; port 8000H
        SETCTL CTL_PROC, PROC_USE_IO_BITMAPS | PROC_UNCOND_IO_EXITING, .iob_na
        VMW IO_BITMAP_A_FULL, IO_BITMAP_A
        VMW IO_BITMAP_A_HIGH, 0
        VMW IO_BITMAP_B_FULL, IO_BITMAP_B
        VMW IO_BITMAP_B_HIGH, 0
        EXITCASE "exit io-bitmap-a", g_in_3f8, PX_LEN | PX_QUAL
        EXITCASE "exit io-bitmap-b", g_out_9000, PX_LEN | PX_QUAL
        EXITCASE "exit io-bitmap-spanning-a-b", g_in_7fff, PX_LEN | PX_QUAL
        EXITCASE "exit io-wrapping-ffff", g_in_ffff, PX_LEN | PX_QUAL
        PRINT "io-bitmap-clear-port:"
        mov eax, g_out_e9               ; bitmaps win over unconditional exiting (25.1.3)
        call case_enter
        jc .iob_done
        mov ebx, PX_LEN
        call print_exit
        NL
        jmp .iob_done
.iob_na: NA "exit io-bitmap-a"
.iob_done:
        SETCTL CTL_PROC, 0, .bad

        ; RDMSR/WRMSR: without MSR bitmaps every access exits; with them, the bitmap bit decides
        ; (read-low at 0, write-low at 800H; MSRs outside 0-1FFFH and C0000000H-C0001FFFH always exit)
        EXITCASE "exit rdmsr", g_rdmsr_174, PX_LEN | PX_QUAL
        mov edi, MSR_BITMAP
        xor eax, eax
        mov ecx, 1024
        rep stosd
        mov eax, MSR_SYSENTER_CS
        bts [MSR_BITMAP], eax
        mov eax, MSR_SYSENTER_ESP
        bts [MSR_BITMAP + 0x800], eax
        SETCTL CTL_PROC, PROC_USE_MSR_BITMAPS, .msrb_na
        VMW MSR_BITMAP_FULL, MSR_BITMAP
        VMW MSR_BITMAP_HIGH, 0
        EXITCASE "exit rdmsr-bitmap", g_rdmsr_174, PX_LEN | PX_QUAL
        EXITCASE "exit wrmsr-bitmap", g_wrmsr_175, PX_LEN | PX_QUAL
        EXITCASE "exit rdmsr-outside-bitmap-ranges", g_rdmsr_4000, PX_LEN | PX_QUAL
        VMW GUEST_SYSENTER_EIP, 0x00C0FFEE
        GCASE "rdmsr-bitmap-clear", g_rdmsr_176
        jc .msrb_done
        mov ebx, PX_LEN
        call print_exit
        PVAL "guest-sysenter-eip", [gd_value]
        NL
        VMW GUEST_SYSENTER_EIP, 0
        jmp .msrb_done
.msrb_na: NA "exit rdmsr-bitmap"
.msrb_done:
        SETCTL CTL_PROC, 0, .bad

        ; exceptions through the exception bitmap (25.2; interruption information 27.2.2: vector 7:0,
        ; type 10:8 (3 hardware exception, 6 software exception), error code valid 11, valid 31)
        GCASE "exit ud2", g_ud2
        jc .ud_done
        mov ebx, PX_INFO | PX_QUAL | PX_RIP
        call print_exit
        mov eax, g_ud2 + 2
        call finish_at
.ud_done:
        EXITCASE "exit int3", g_int3, PX_LEN | PX_INFO | PX_QUAL | PX_RIP
        GCASE "exit gp", g_gp
        jc .gp_done
        mov ebx, PX_INFO | PX_QUAL | PX_RIP
        call print_exit
        mov eax, g_gp + 6
        call finish_at
.gp_done:
        VMW GUEST_CR3, GUEST_PD
        mov eax, 0x11111111
        mov cr2, eax
        GCASE "exit pf", g_pf
        jc .pf_done
        mov ebx, PX_INFO | PX_QUAL | PX_RIP
        call print_exit
        mov eax, cr2                    ; a #PF that exits does not write CR2 (27.1)
        PVAL "cr2", eax
        mov eax, g_pf + 5
        call finish_at
.pf_done:
        mov eax, cr3
        VMW GUEST_CR3, eax
        VMW EXCEPTION_BITMAP, ~(1 << 6)
        GGATE 6, g_ud_skip_handler
        mov dword [gd_vector], 0
        GCASE "ud2-bitmap-bit-clear", g_ud2
        jc .udc_done
        mov ebx, PX_LEN
        call print_exit
        PVAL "guest-handled-vector", [gd_vector]
        NL
.udc_done:
        VMW EXCEPTION_BITMAP, 0
        GCASE "exit triple-fault", g_triple
        jc .tf_done
        mov ebx, PX_QUAL
        call print_exit
        NL
.tf_done:
        VMW EXCEPTION_BITMAP, 0xFFFFFFFF
        ret
.bad:   LINE "FAIL controls"
        jmp finish

; ======================================================================================================
; 5. Events: interrupt window, external interrupt, preemption timer, injection (SDM 25.2-25.6, 26.6)
; ======================================================================================================

event_cases:
        call vmcs_baseline_controls
        ; interrupt-window exiting with RFLAGS.IF = 1: exit before the first guest instruction
        SETCTL CTL_PROC, PROC_INTWIN_EXITING, .iw_na
        mov dword [case_rflags], 2 | FL_IF
        GCASE "exit interrupt-window", g_nop_vmcall
        jc .iw_done
        mov ebx, PX_QUAL | PX_RIP
        call print_exit
        SETCTL CTL_PROC, 0, .bad
        mov eax, [case_label]
        call finish_at
        ; IF = 0, then STI: the window opens after the instruction in the STI shadow
        SETCTL CTL_PROC, PROC_INTWIN_EXITING, .iw_na
        GCASE "exit interrupt-window-sti-shadow", g_sti_shadow
        jc .iw_done
        mov ebx, PX_QUAL | PX_RIP
        call print_exit
        SETCTL CTL_PROC, 0, .bad
        VMR GUEST_RIP
        call finish_at
        jmp .iw_done
.iw_na: NA "exit interrupt-window"
        NA "exit interrupt-window-sti-shadow"
.iw_done:
        SETCTL CTL_PROC, 0, .bad

        ; external interrupt: a self-IPI left pending (host IF = 0) exits before the guest's first
        ; instruction with external-interrupt exiting (25.2); acknowledged on exit, its vector is in the
        ; interruption information (27.2.2). The guest runs with IF = 1: the SDM makes the exit
        ; independent of RFLAGS.IF, but Bochs 2.7 re-evaluates its interrupt mask at VM entry only when
        ; IF changes (cpu/flag_ctrl_pro.cc handleInterruptMaskChange), so host IF = 0 -> guest IF = 0
        ; would leave the interrupt pending there.
        mov dword [LAPIC_SVR], 0x1FF    ; APIC software-enabled, spurious vector FFH
        SETCTL CTL_PIN, PIN_EXTINT_EXITING, .ext_na
        SETCTL CTL_EXIT, EXIT_ACK_INTERRUPT, .ext_na
        mov dword [LAPIC_ICR_LO], 0x00044000 | SELF_IPI_VECTOR  ; fixed, shorthand self
        mov dword [case_rflags], 2 | FL_IF
        GCASE "exit external-interrupt", g_nop_vmcall
        jc .ext_done
        mov ebx, PX_QUAL | PX_INFO | PX_RIP
        call print_exit
        mov dword [LAPIC_EOI], 0
        SETCTL CTL_PIN, 0, .bad
        SETCTL CTL_EXIT, 0, .bad
        VMW GUEST_RFLAGS, 2
        mov eax, [case_label]
        call finish_at
        jmp .ext_done
.ext_na: NA "exit external-interrupt"
.ext_done:
        SETCTL CTL_PIN, 0, .bad
        SETCTL CTL_EXIT, 0, .bad

        ; VMX-preemption timer (25.5.1): counts down from the loaded value; exit 52; with "save
        ; VMX-preemption timer value" an exit due to the timer saves 0 (27.3.2)
        SETCTL CTL_PIN, PIN_PREEMPTION_TIMER, .pt_na
        SETCTL CTL_EXIT, EXIT_SAVE_TIMER, .pt_na
        VMW PREEMPTION_TIMER, 0x100
        GCASE "exit preemption-timer", g_spin
        jc .pt_done
        mov ebx, PX_QUAL
        call print_exit
        VMR PREEMPTION_TIMER
        PVAL "saved", eax
        NL
        VMW PREEMPTION_TIMER, 0         ; 0: exits before the first guest instruction
        mov dword [gd_count], 0
        GCASE "exit preemption-timer-zero", g_spin
        jc .pt_done
        mov ebx, PX_QUAL | PX_RIP
        call print_exit
        PVAL "guest-count", [gd_count]
        NL
        VMW PREEMPTION_TIMER, 0x7FFFFFFF  ; a non-timer exit saves the remaining count
        GCASE "preemption-timer-saved-on-vmcall", g_vmcall
        jc .pt_done
        mov ebx, PX_LEN
        call print_exit
        VMR PREEMPTION_TIMER
        cmp eax, 0x7FFFFFFF
        setbe al
        movzx eax, al
        PVAL "saved-le-loaded", eax
        VMR PREEMPTION_TIMER
        test eax, eax
        setnz al
        movzx eax, al
        PVAL "saved-nonzero", eax
        NL
        jmp .pt_done
.pt_na: NA "exit preemption-timer"
.pt_done:
        SETCTL CTL_PIN, 0, .bad
        SETCTL CTL_EXIT, 0, .bad

        ; event injection (26.6): the guest's own handlers run; no exit until its VMCALL
        VMW EXCEPTION_BITMAP, 0
        GGATE 0x40, g_int40_handler
        GGATE 6, g_ud_handler
        GGATE 13, g_gp_handler
        mov dword [gd_vector], 0
        VMW ENTRY_INTR_INFO, 0x80000440  ; software interrupt (type 4), vector 40H
        VMW ENTRY_INSN_LEN, 2
        GCASE "inject-software-interrupt", g_inject_soft
        jc .inj1_done
        mov ebx, PX_LEN
        call print_exit
        PVAL "vector", [gd_vector]
        mov eax, [gd_eip]
        sub eax, g_inject_soft
        PRINT " pushed-rip=+"
        PDEC eax
        VMR ENTRY_INTR_INFO
        shr eax, 31
        PVAL "entry-info-valid", eax  ; every VM exit clears the valid bit (24.8.3)
        NL
.inj1_done:
        mov dword [gd_vector], 0
        VMW ENTRY_INTR_INFO, 0x80000306  ; hardware exception (type 3), #UD
        GCASE "inject-ud", g_inject_at_vmcall
        jc .inj2_done
        mov ebx, PX_LEN
        call print_exit
        PVAL "vector", [gd_vector]
        mov eax, [gd_eip]
        sub eax, g_inject_at_vmcall
        PRINT " pushed-rip=+"
        PDEC eax
        NL
.inj2_done:
        mov dword [gd_vector], 0
        VMW ENTRY_INTR_INFO, 0x80000B0D  ; hardware exception with error code, #GP
        VMW ENTRY_EXC_ERROR_CODE, 0x1234
        GCASE "inject-gp-error-code", g_inject_at_vmcall
        jc .inj3_done
        mov ebx, PX_LEN
        call print_exit
        PVAL "vector", [gd_vector]
        PVAL "error", [gd_error]
        mov eax, [gd_eip]
        sub eax, g_inject_at_vmcall
        PRINT " pushed-rip=+"
        PDEC eax
        NL
.inj3_done:
        VMW ENTRY_INTR_INFO, 0
        VMW EXCEPTION_BITMAP, 0xFFFFFFFF
        ret
.bad:   LINE "FAIL controls"
        jmp finish

; ======================================================================================================
; 6. EPT violations (SDM 28.2.3.2; qualification Table 27-7: read 0, write 1, fetch 2, the entry's
; R/W/X 3-5, linear address valid 7, translation of that address 8; bit 6 and 9-11 are printed as 0)
; ======================================================================================================

ept_cases:
        call vmcs_baseline_controls
        SETCTL CTL_PROC, PROC_SECONDARY, .na
        SETCTL CTL_PROC2, PROC2_EPT, .na
        VMW EPTP_FULL, EPTP_VALUE
        VMW EPTP_HIGH, 0
        mov dword [EPT_TEST_GPA + 0x10], 0x600DF00D
        mov dword [gd_value], 0
        GCASE "exit ept-violation-not-present", g_ept
        jc .done
        mov dword [qual_mask], 0x000011BF
        mov ebx, PX_QUAL | PX_GPA | PX_GLA | PX_RIP
        call print_exit
        NL
        ; map it read-only and go on: the read succeeds, the write exits
        mov dword [EPT_PT1 + 8], EPT_TEST_GPA | (6 << 3) | 1
        PRINT "exit ept-violation-write:"
        call vm_enter
        cmp dword [entry_failed], 0
        jne .failed
        mov dword [qual_mask], 0x000011BF
        mov ebx, PX_QUAL | PX_GPA | PX_GLA | PX_RIP
        call print_exit
        PVAL "guest-read", [gd_value]
        NL
        ; make it writable; INVEPT single-context (or all-context) drops the cached read-only entry
        mov dword [EPT_PT1 + 8], EPT_TEST_GPA | (6 << 3) | 3
        mov dword [descriptor], EPTP_VALUE
        mov dword [descriptor + 4], 0
        mov dword [descriptor + 8], 0
        mov dword [descriptor + 12], 0
        mov eax, 1
        test dword [caps_ept_lo], 1 << 25
        jnz .single
        mov eax, 2
.single:
        test dword [caps_ept_lo], 1 << 20
        jz .noinv
        invept eax, [descriptor]
.noinv: PRINT "ept-write-after-invept:"
        call case_resume_after
        PVAL "memory", [EPT_TEST_GPA + 0x10]
        NL
        jmp .done
.failed:
        PRINT " resume failed"
        NL
        jmp .done
.na:    NA "exit ept-violation-not-present"
        NA "exit ept-violation-write"
.done:  call vmcs_baseline_controls
        ret

; case_resume_after: VMRESUME, print the exit that ends it (no newline)
case_resume_after:
        pushad
        call vm_enter
        cmp dword [entry_failed], 0
        je .ok
        PRINT " resume failed"
        jmp .out
.ok:    mov ebx, PX_LEN
        call print_exit
.out:   popad
        ret

; ======================================================================================================
; 7. The round-trip benchmark (kvm-unit-tests x86/vmexit.c "cpuid", vmlatency): the guest's CPUID exits,
; the host stub counts down and resumes at the same CPUID; RDTSC around BENCH_N round trips
; ======================================================================================================

bench:
%ifdef BENCH_ONLY
        call vmcs_setup
%else
        call vmcs_baseline_controls
%endif
        VMW GUEST_RIP, g_bench
        VMW GUEST_RSP, GUEST_STACK_TOP
        VMW GUEST_RFLAGS, 2
        VMW HOST_RIP, bench_exit
        mov dword [bench_n], BENCH_N
        cmp dword [launched], 0
        jne .launched
        ; a first entry to get the VMCS launched (the loop uses VMRESUME only)
        VMW HOST_RIP, vm_exit_entry
        call vm_enter
        VMW HOST_RIP, bench_exit
        cmp dword [entry_failed], 0
        jne .fail
.launched:
        VMW GUEST_RIP, g_bench
        pushad
        mov eax, esp
        VMW HOST_RSP, eax
        rdtsc
        mov [tsc_start], eax
        mov [tsc_start + 4], edx
        mov ecx, BENCH_N
        vmresume
        popad
        jmp .fail
.back:  VMW HOST_RIP, vm_exit_entry
        mov eax, [tsc_end]
        mov edx, [tsc_end + 4]
        sub eax, [tsc_start]
        sbb edx, [tsc_start + 4]
        PRINT "bench: cpuid-round-trip n="
        PDEC BENCH_N
        mov ecx, BENCH_N
        div ecx
        PRINT " cycles-per-round-trip="
        PDEC eax
        NL
        ret
.fail:  VMW HOST_RIP, vm_exit_entry
        PRINT "bench: entry failed"
        NL
        ret

bench_exit:                             ; HOST_RIP of the loop: ESP = the pushad frame above
        dec ecx
        jnz .again
        rdtsc
        mov [tsc_end], eax
        mov [tsc_end + 4], edx
        popad
        jmp bench.back
.again: vmresume
        popad
        jmp bench.fail

; ======================================================================================================
; 8. INVEPT/INVVPID operands, VMXOFF and VMXON again (SDM 30.3 INVEPT/INVVPID/VMXOFF)
; ======================================================================================================

invalidate_cases:
        call vmcs_setup
        mov dword [descriptor], EPTP_VALUE
        mov dword [descriptor + 4], 0
        mov dword [descriptor + 8], 0
        mov dword [descriptor + 12], 0
        test dword [caps_ept_lo], 1 << 20
        jz .invept_na
        PRINT "invept-type-0:"
        xor eax, eax
        PRESET
        invept eax, [descriptor]
        RESULT
        NL
        PRINT "invept-type-3:"
        mov eax, 3
        PRESET
        invept eax, [descriptor]
        RESULT
        NL
        PRINT "invept-all-context:"
        mov eax, 2
        test dword [caps_ept_lo], 1 << 26
        jz .inv_all_na
        PRESET
        invept eax, [descriptor]
        RESULT
        NL
        jmp .invept_done
.inv_all_na:
        LINE " n/a"
        jmp .invept_done
.invept_na:
        NA "invept-type-0"
        NA "invept-type-3"
        NA "invept-all-context"
.invept_done:
        test dword [caps_ept_hi], 1 << 0
        jz .invvpid_na
        mov dword [descriptor], 1       ; VPID 1
        PRINT "invvpid-type-4:"
        mov eax, 4
        PRESET
        invvpid eax, [descriptor]
        RESULT
        NL
        PRINT "invvpid-single-context-vpid-0:"
        mov dword [descriptor], 0
        mov eax, 1
        test dword [caps_ept_hi], 1 << (41 - 32)
        jz .ivs_na
        PRESET
        invvpid eax, [descriptor]
        RESULT
        NL
        jmp .ivs_done
.ivs_na:
        LINE " n/a"
.ivs_done:
        PRINT "invvpid-all-context:"
        mov eax, 2
        test dword [caps_ept_hi], 1 << (42 - 32)
        jz .iva_na
        PRESET
        invvpid eax, [descriptor]
        RESULT
        NL
        jmp .invvpid_done
.iva_na:
        LINE " n/a"
        jmp .invvpid_done
.invvpid_na:
        NA "invvpid-type-4"
        NA "invvpid-single-context-vpid-0"
        NA "invvpid-all-context"
.invvpid_done:
        ret

vmxoff_cases:
        ; VMCS_A holds GUEST_RSP = a known value; VMCLEAR it, leave VMX operation, come back
        VMW GUEST_RSP, 0xCAFE0001
        mov eax, VMCS_A
        call set_operand
        vmclear [operand]
        CHECK "cr4.vmxe-clear-in-vmx-operation", .gp_r    ; #GP: CR4.VMXE is fixed 1 (23.8)
        EXCBASE .gp
        mov eax, cr4
        and eax, ~CR4_VMXE
.gp:    mov cr4, eax
.gp_r:  ENDCHECK
        PRINT "vmxoff:"
        PRESET
        vmxoff
        RESULT
        NL
        CHECK "vmread-after-vmxoff", .ud_r                ; #UD outside VMX operation
        EXCBASE .ud
        mov edx, GUEST_RSP
.ud:    vmread eax, edx
.ud_r:  ENDCHECK
        CHECK "vmxoff-outside-vmx-operation", .ud2_r
        EXCBASE .ud2
.ud2:   vmxoff
.ud2_r: ENDCHECK
        PRINT "vmxon-again:"
        mov eax, VMXON_REGION
        call set_operand
        PRESET
        vmxon [operand]
        RESULT
        NL
        PRINT "vmptrst-after-vmxon:"
        vmptrst [operand]
        PRINT " ptr="
        PHEX32 [operand + 4]
        PRINT "_"
        PHEX32 [operand]
        NL
        PRINT "vmcs-kept-across-vmxoff:"
        mov eax, VMCS_A
        call set_operand
        vmptrld [operand]
        RESULT
        VMR GUEST_RSP
        PVAL "value", eax
        NL
        vmclear [operand]
        vmxoff
        mov eax, cr4
        and eax, ~CR4_VMXE
        mov cr4, eax
        PRINT "cr4.vmxe-clear-after-vmxoff:"
        mov eax, cr4
        and eax, CR4_VMXE
        PVAL "vmxe", eax
        NL
        ret

%include "vmx-host.inc"
%include "vmx-guest.inc"
%include "lib/epilogue.inc"
