/** Placeholder: the local APIC (SDM Vol. 3A chapter 10) is being written in this file. */
export class LocalApic {}
