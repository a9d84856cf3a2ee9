/**
 * The VMX capability MSRs 480H-491H as the core's RDMSR/WRMSR see them (SDM Vol. 3C Appendix A; values from
 * vmx-capabilities.ts for the core's generation). They are read-only: WRMSR raises #GP(0), and so does RDMSR
 * of one the processor does not have (no VMX at all, no secondary controls, no TRUE controls, no EPT/VPID).
 */
import { defineMsr } from "../msr.ts";
import { fault } from "../exceptions.ts";

const GP = 13;

for (let index = 0x480; index <= 0x491; index++) {
  defineMsr({
    index,
    name: `IA32_VMX_${index.toString(16).toUpperCase()}H`,
    read: (c, _stored, out) => {
      const v = c.vmx?.caps.msrs.get(index);
      if (v === undefined) fault(GP, 0);
      out[0] = v[0];
      out[1] = v[1];
    },
    write: () => fault(GP, 0),
  });
}
