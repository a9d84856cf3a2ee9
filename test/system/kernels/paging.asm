; paging.asm -- 32-bit paging: 4 KiB and 4 MiB pages, aliases, #PF with CR2 and error code for
; not-present, read-only (CR0.WP=0/1), user/supervisor (from ring 3, PDE and PTE combined),
; instruction fetches; accessed and dirty bits; INVLPG and CR3 reload after changing a PTE;
; CR4.PSE=0 makes the PS bit ignored; implicit supervisor accesses (GDT/IDT/TSS) from ring 3.
;
; Follows Intel SDM Vol. 3A 4.3 (32-bit paging, Table 4-4..4-6: PDE/PTE formats, PS honoured only
; with CR4.PSE=1), 4.6 (access rights: U/S and R/W of PDE and PTE combined, CR0.WP for supervisor
; writes, implicit supervisor-mode accesses to GDT/IDT/TSS), 4.7 (#PF error code: P, W/R, U/S; CR2 =
; the faulting linear address), 4.8 (accessed flag on use, dirty flag on the first write, in the
; entry that maps the page: PTE, or PDE of a 4 MiB page), 4.10.4 (INVLPG and MOV to CR3 invalidate
; the TLB entries for non-global pages).
; Leaves out, on purpose: anything the SDM leaves open -- stale TLB entries (whether an old
; translation is still used before INVLPG), global pages surviving a CR3 load (allowed, not
; required), speculative A-bit setting, reserved-bit faults (they depend on PSE-36/MAXPHYADDR),
; CR2 of page-crossing accesses, PAE.

%include "lib/prologue.inc"

PT0        equ PAGE_DIR + 0x1000        ; identity map of 0-4 MiB (4 KiB pages)
PT_ALIAS   equ PAGE_DIR + 0x2000        ; linear 0x80000000-0x803FFFFF
PT_SUPDIR  equ PAGE_DIR + 0x3000        ; linear 0x80400000: supervisor PDE over user PTEs
PT_RODIR   equ PAGE_DIR + 0x4000        ; linear 0x80800000: read-only PDE over writable PTEs
P_A        equ SCRATCH + 0x0000         ; physical test pages
P_B        equ SCRATCH + 0x1000
P_C        equ SCRATCH + 0x2000
P_D        equ SCRATCH + 0x3000
P_CODE     equ 0xF0000                  ; first ROM page (its code is ring-3 reachable via an alias)
U_DATA2    equ KSEL_FREE | 3            ; flat data, DPL 3, accessed bit clear
LIN_A      equ 0x80000000               ; -> P_A, user, writable
LIN_NP     equ 0x80001000               ; not present
LIN_SUP    equ 0x80002000               ; -> P_A, supervisor, writable
LIN_AD     equ 0x80003000               ; -> P_B, fresh entry (A=D=0), user, writable
LIN_INV    equ 0x80004000               ; -> P_C, then P_D (INVLPG), then P_C (CR3 reload)
LIN_FETCH  equ 0x80005000               ; not present (instruction fetch)
LIN_SUPX   equ 0x80006000               ; -> P_CODE, supervisor (fetch from ring 3)
LIN_RO     equ 0x80007000               ; -> P_A, supervisor, read-only
LIN_URO    equ 0x80008000               ; -> P_A, user, read-only
LIN_RO2    equ 0x80009000               ; -> P_A, supervisor, read-only, never written
LIN_M4     equ 0x40000000               ; 4 MiB page -> physical 0 (alias of the low 4 MiB)
LIN_M4AD   equ 0x40400000               ; 4 MiB page -> physical 0, fresh (A=D=0)
LIN_NOPDE  equ 0xC0000000               ; PDE not present
LIN_SUPDIR equ 0x80400000               ; PDE U=0, PTE U=1 -> P_A
LIN_RODIR  equ 0x80800000               ; PDE R/W=0, PTE R/W=1 -> P_A

%macro PTE 3                            ; page table, linear address, value
        mov dword [%1 + (((%2) >> 12) & 0x3FF) * 4], %3
%endmacro

kmain:
        SETDESC U_DATA2, 0, 0xFFFFF, ACC_DATA3, FL_G_D
        ; ---- build the tables ----
        mov edi, PAGE_DIR
        xor eax, eax
        mov ecx, 5 * 1024
        rep stosd
        mov edi, PT0                    ; identity, user, writable ...
        mov eax, 0x7
        mov ecx, 1024
.id:    stosd
        add eax, 0x1000
        loop .id
        mov edi, PT0 + (0x1000 >> 12) * 4   ; ... except GDT/IDT/TSS (0x1000-0x5FFF): supervisor
        mov eax, 0x1000 | 0x3
        mov ecx, 5
.sup1:  stosd
        add eax, 0x1000
        loop .sup1
        mov edi, PT0 + (0x71000 >> 12) * 4  ; ... and the ring-0 stacks (0x71000-0x8FFFF)
        mov eax, 0x71000 | 0x3
        mov ecx, 0x1F
.sup2:  stosd
        add eax, 0x1000
        loop .sup2
        mov dword [PAGE_DIR + 0x000 * 4], PT0 | 0x7
        mov dword [PAGE_DIR + (LIN_A >> 22) * 4], PT_ALIAS | 0x7
        mov dword [PAGE_DIR + (LIN_SUPDIR >> 22) * 4], PT_SUPDIR | 0x3
        mov dword [PAGE_DIR + (LIN_RODIR >> 22) * 4], PT_RODIR | 0x5
        mov dword [PAGE_DIR + (LIN_M4 >> 22) * 4], 0x00000000 | 0x87      ; PS, user, writable
        mov dword [PAGE_DIR + (LIN_M4AD >> 22) * 4], 0x00000000 | 0x87
        PTE PT_ALIAS, LIN_A,     P_A | 0x7
        PTE PT_ALIAS, LIN_SUP,   P_A | 0x3
        PTE PT_ALIAS, LIN_AD,    P_B | 0x7
        PTE PT_ALIAS, LIN_INV,   P_C | 0x7
        PTE PT_ALIAS, LIN_SUPX,  P_CODE | 0x3
        PTE PT_ALIAS, LIN_RO,    P_A | 0x1
        PTE PT_ALIAS, LIN_URO,   P_A | 0x5
        PTE PT_ALIAS, LIN_RO2,   P_A | 0x1
        PTE PT_SUPDIR, LIN_SUPDIR, P_A | 0x7
        PTE PT_RODIR, LIN_RODIR, P_A | 0x7
        mov dword [P_A], 0xCAFEBABE
        mov dword [P_B], 0xB0B0B0B0
        mov dword [P_C], 0x0000CCCC
        mov dword [P_D], 0x0000DDDD
        mov dx, DEBUGCON_PORT
        call io_allow
        ; ---- turn paging on: CR4.PSE, CR3, CR0.PG (WP=0 first) ----
        mov eax, cr4
        or eax, 0x10
        mov cr4, eax
        mov eax, PAGE_DIR
        mov cr3, eax
        mov eax, cr0
        or eax, 0x80000000
        mov cr0, eax
        jmp .on                         ; (SDM 9.9.1: a jump after setting PG)
.on:    PRINT "paging-on:"
        mov eax, cr0
        and eax, 0x80010001
        PVAL "cr0.pg-wp-pe", eax
        mov eax, cr3
        PVAL "cr3", eax
        NL

; ---- aliases ----
        PRINT "alias-4k-read:"
        PVAL "value", [LIN_A]
        NL
        PRINT "alias-4m-read:"
        PVAL "value", [LIN_M4 + P_A]
        NL
        mov dword [LIN_A + 4], 0x12345678
        PRINT "alias-4k-write-identity-read:"
        PVAL "value", [P_A + 4]
        NL
        mov dword [LIN_M4 + P_A + 8], 0x9ABCDEF0
        PRINT "alias-4m-write-4k-alias-read:"
        PVAL "value", [LIN_A + 8]
        NL

; ---- not present ----
        CHECK "pf-read-pte-not-present", .np1r
        EXCBASE .np1
.np1:   mov eax, [LIN_NP + 0x123]
.np1r:  ENDCHECK
        CHECK "pf-write-pte-not-present", .np2r
        EXCBASE .np2
.np2:   mov [LIN_NP + 0xFFC], eax
.np2r:  ENDCHECK
        CHECK "pf-read-pde-not-present", .np3r
        EXCBASE .np3
.np3:   mov al, [LIN_NOPDE + 0x5678]
.np3r:  ENDCHECK
        CHECK "pf-fetch-not-present", .np4r
        EXCBASE LIN_FETCH
        mov eax, LIN_FETCH
        jmp eax
.np4r:  ENDCHECK

; ---- read-only pages at CPL 0: CR0.WP=0 allows the write, WP=1 faults ----
        CHECK "wp0-write-supervisor-read-only", .wp1r
        mov dword [LIN_RO + 12], 0x0BADF00D
.wp1r:  ENDCHECK
        PRINT "wp0-value:"
        PVAL "value", [P_A + 12]
        NL
        CHECK "wp0-write-user-read-only", .wp2r
        mov dword [LIN_URO + 16], 0x600DF00D
.wp2r:  ENDCHECK
        CHECK "wp0-write-read-only-pde", .wp3r
        mov dword [LIN_RODIR + 20], 0x5555AAAA
.wp3r:  ENDCHECK
        mov eax, cr0
        or eax, 0x10000                 ; WP
        mov cr0, eax
        CHECK "wp1-write-supervisor-read-only", .wp4r
        EXCBASE .wp4
.wp4:   mov dword [LIN_RO + 12], 0xFFFFFFFF
.wp4r:  ENDCHECK
        CHECK "wp1-write-user-read-only", .wp5r
        EXCBASE .wp5
.wp5:   mov word [LIN_URO + 0xFFE], 0xFFFF
.wp5r:  ENDCHECK
        CHECK "wp1-write-read-only-pde", .wp6r
        EXCBASE .wp6
.wp6:   mov byte [LIN_RODIR + 0x10], 0xFF
.wp6r:  ENDCHECK
        CHECK "wp1-read-read-only", .wp7r
        mov eax, [LIN_RO + 12]
.wp7r:  ENDCHECK
        PRINT "wp1-values:"
        PVAL "value", [P_A + 12]
        PVAL "value16", [P_A + 16]
        PVAL "value20", [P_A + 20]
        NL

; ---- ring 3 ----
        mov eax, u_main
        xor ebx, ebx
        call enter_user

        PRINT "user-load-set-accessed-bit:"   ; an implicit supervisor write to the GDT page
        PVAL "hi", [GDT_BASE + (U_DATA2 & ~7) + 4]
        NL

; ---- accessed and dirty bits ----
        PRINT "ad-initial:"
        PVAL "pte", [PT_ALIAS + ((LIN_AD >> 12) & 0x3FF) * 4]
        PVAL "pde4m", [PAGE_DIR + (LIN_M4AD >> 22) * 4]
        NL
        mov eax, [LIN_AD + 0x10]
        PRINT "ad-after-read:"
        PVAL "pte", [PT_ALIAS + ((LIN_AD >> 12) & 0x3FF) * 4]
        mov eax, [PAGE_DIR + (LIN_AD >> 22) * 4]
        and eax, 0x3F                   ; bit 6 of a PDE that maps a page table is ignored
        PVAL "pde", eax
        NL
        mov [LIN_AD + 0x10], eax
        PRINT "ad-after-write:"
        PVAL "pte", [PT_ALIAS + ((LIN_AD >> 12) & 0x3FF) * 4]
        NL
        mov eax, [LIN_M4AD + P_B]
        PRINT "ad-4m-after-read:"
        PVAL "pde", [PAGE_DIR + (LIN_M4AD >> 22) * 4]
        NL
        mov [LIN_M4AD + P_B + 4], eax
        PRINT "ad-4m-after-write:"
        PVAL "pde", [PAGE_DIR + (LIN_M4AD >> 22) * 4]
        NL
        ; clear A and D, INVLPG, write: both set again by one write
        and dword [PT_ALIAS + ((LIN_AD >> 12) & 0x3FF) * 4], ~0x60
        invlpg [LIN_AD]
        mov byte [LIN_AD + 0x20], 1
        PRINT "ad-write-first:"
        PVAL "pte", [PT_ALIAS + ((LIN_AD >> 12) & 0x3FF) * 4]
        NL
        ; a read-only page that faults on a write at CPL 0 with WP=1 gets no dirty bit
        PRINT "ad-faulting-write-no-dirty:"
        mov dword [exc_quiet], 1
        EXPECT .ad1
        mov byte [LIN_RO2], 1
.ad1:   mov dword [exc_quiet], 0
        PVAL "vec", [exc_last_vec]
        mov eax, [PT_ALIAS + ((LIN_RO2 >> 12) & 0x3FF) * 4]
        and eax, 0x40
        PVAL "pte.d", eax
        NL

; ---- INVLPG and CR3 reload after changing a PTE ----
        PRINT "invlpg-before:"
        PVAL "value", [LIN_INV]
        NL
        PTE PT_ALIAS, LIN_INV, P_D | 0x7
        invlpg [LIN_INV]
        PRINT "invlpg-after:"
        PVAL "value", [LIN_INV]
        NL
        PTE PT_ALIAS, LIN_INV, P_C | 0x7
        mov eax, cr3
        mov cr3, eax
        PRINT "cr3-reload-after:"
        PVAL "value", [LIN_INV]
        NL
        PTE PT_ALIAS, LIN_INV, P_C | 0x6
        invlpg [LIN_INV]
        CHECK "invlpg-now-not-present", .inv1r
        EXCBASE .inv1
.inv1:  mov eax, [LIN_INV]
.inv1r: ENDCHECK
        ; a new page directory through CR3: the old mappings are gone
        mov edi, PAGE_DIR + 0x5000
        mov esi, PAGE_DIR
        mov ecx, 1024
        rep movsd
        mov dword [PAGE_DIR + 0x5000 + (LIN_A >> 22) * 4], 0
        mov eax, PAGE_DIR + 0x5000
        mov cr3, eax
        CHECK "new-cr3-alias-gone", .cr3r
        EXCBASE .cr3
.cr3:   mov eax, [LIN_A]
.cr3r:  ENDCHECK
        mov eax, PAGE_DIR
        mov cr3, eax

; ---- CR4.PSE=0: the PS bit is ignored, the PDE points to a page table ----
        mov dword [0], P_B | 0x7        ; physical 0 as a page table: entry 0 -> P_B
        mov eax, cr4
        and eax, ~0x10
        mov cr4, eax
        mov eax, cr3
        mov cr3, eax
        PRINT "pse0-pde-is-page-table:"
        PVAL "value", [LIN_M4]
        NL
        CHECK "pse0-entry1-not-present", .pse1r
        EXCBASE .pse1
.pse1:  mov eax, [LIN_M4 + 0x1000]      ; physical 4 holds 0: not present
.pse1r: ENDCHECK
        mov eax, cr4
        or eax, 0x10
        mov cr4, eax
        mov eax, cr3
        mov cr3, eax
        PRINT "pse1-again:"
        PVAL "value", [LIN_M4 + P_B]
        NL

; ---- paging off ----
        mov eax, cr0
        and eax, ~0x80010000
        mov cr0, eax
        jmp .off
.off:   PRINT "paging-off:"
        PVAL "value", [P_A]
        NL
        ret

; ================= ring 3 =================
%macro RCHECK 2
        CHECK %1, %%r
        EXCBASE %%f
%%f:    %2
%%r:    ENDCHECK
%endmacro
u_main:
        RCHECK "user-read-user-page",            {mov eax, [LIN_A]}
        RCHECK "user-read-supervisor-page",      {mov eax, [LIN_SUP]}
        RCHECK "user-write-supervisor-page",     {mov [LIN_SUP + 4], eax}
        RCHECK "user-read-supervisor-pde",       {mov eax, [LIN_SUPDIR]}
        RCHECK "user-write-read-only-page",      {mov [LIN_URO], eax}
        RCHECK "user-write-read-only-pde",       {mov [LIN_RODIR], eax}
        RCHECK "user-read-not-present",          {mov eax, [LIN_NP]}
        RCHECK "user-write-not-present",         {mov [LIN_NP], eax}
        RCHECK "user-read-4m-page",              {mov eax, [LIN_M4 + P_A]}
        RCHECK "user-read-gdt-page",             {mov eax, [GDT_BASE]}
        mov ax, U_DATA2
        RCHECK "user-load-es-gdt-supervisor",    {mov es, ax}
        mov ax, UDATA
        mov es, ax
        CHECK "user-fetch-supervisor-page", .fetch_r
        EXCBASE LIN_SUPX + (.fetch_target - P_CODE)
        jmp LIN_SUPX + (.fetch_target - P_CODE)
.fetch_r:
        ENDCHECK
        int USER_EXIT_VEC
.fetch_target equ P_CODE + 0x100        ; any byte of the first ROM page

%include "lib/epilogue.inc"
