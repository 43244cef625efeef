/* generated from isa/isa.toml by `python -m wse.isa --write`; do not edit. */
#ifndef WSE_ISA_H
#define WSE_ISA_H
#include <stdint.h>

#define WSE_ISA_VERSION 1
#define WSE_NUM_INSNS 114

/* Encoding fields: WSE_F_<NAME>(word) extracts (sign-extended when signed). */
#define WSE_F_OP(w) (((uint32_t)(w) >> 24) & 0xffu)
#define WSE_F_R1(w) (((uint32_t)(w) >> 20) & 0xfu)
#define WSE_F_R2(w) (((uint32_t)(w) >> 16) & 0xfu)
#define WSE_F_R3(w) (((uint32_t)(w) >> 12) & 0xfu)
#define WSE_F_IMM16(w) ((int32_t)((((uint32_t)(w) >> 0) & 0xffffu) ^ 0x8000u) - 0x8000)
#define WSE_F_UIMM16(w) (((uint32_t)(w) >> 0) & 0xffffu)
#define WSE_F_SHAMT(w) (((uint32_t)(w) >> 0) & 0x1fu)
#define WSE_F_OFF16(w) ((int32_t)((((uint32_t)(w) >> 0) & 0xffffu) ^ 0x8000u) - 0x8000)
#define WSE_F_TGT24(w) (((uint32_t)(w) >> 0) & 0xffffffu)
#define WSE_F_DSR(w) (((uint32_t)(w) >> 19) & 0x1fu)
#define WSE_F_RQ(w) (((uint32_t)(w) >> 15) & 0xfu)
#define WSE_F_DSDIDX(w) (((uint32_t)(w) >> 0) & 0xffffu)
#define WSE_F_COLOR(w) (((uint32_t)(w) >> 19) & 0x1fu)
#define WSE_F_TID(w) (((uint32_t)(w) >> 0) & 0x3fu)
#define WSE_F_DD(w) (((uint32_t)(w) >> 21) & 0x7u)
#define WSE_F_DA(w) (((uint32_t)(w) >> 18) & 0x7u)
#define WSE_F_DB(w) (((uint32_t)(w) >> 15) & 0x7u)
#define WSE_F_RS(w) (((uint32_t)(w) >> 11) & 0xfu)
#define WSE_F_ACT(w) (((uint32_t)(w) >> 9) & 0x3u)
#define WSE_F_UT(w) (((uint32_t)(w) >> 6) & 0x7u)

/* Opcodes (bits 31..24), one per encoding. */
enum wse_opcode {
    WSE_OP_NOP = 0x01,
    WSE_OP_EXIT = 0x02,
    WSE_OP_TRAP = 0x03,
    WSE_OP_RDCYC = 0x04,
    WSE_OP_RDCYCH = 0x05,
    WSE_OP_ADD = 0x08,
    WSE_OP_SUB = 0x09,
    WSE_OP_AND = 0x0a,
    WSE_OP_OR = 0x0b,
    WSE_OP_XOR = 0x0c,
    WSE_OP_SLL = 0x0d,
    WSE_OP_SRL = 0x0e,
    WSE_OP_SRA = 0x0f,
    WSE_OP_MUL = 0x10,
    WSE_OP_SLT = 0x11,
    WSE_OP_SLTU = 0x12,
    WSE_OP_ADDI = 0x18,
    WSE_OP_ANDI = 0x19,
    WSE_OP_ORI = 0x1a,
    WSE_OP_XORI = 0x1b,
    WSE_OP_SLLI = 0x1c,
    WSE_OP_SRLI = 0x1d,
    WSE_OP_SRAI = 0x1e,
    WSE_OP_LUI = 0x1f,
    WSE_OP_SLTI = 0x20,
    WSE_OP_LD16 = 0x28,
    WSE_OP_LD16S = 0x29,
    WSE_OP_LD32 = 0x2a,
    WSE_OP_ST16 = 0x2b,
    WSE_OP_ST32 = 0x2c,
    WSE_OP_BEQ = 0x30,
    WSE_OP_BNE = 0x31,
    WSE_OP_BLT = 0x32,
    WSE_OP_BGE = 0x33,
    WSE_OP_BLTU = 0x34,
    WSE_OP_BGEU = 0x35,
    WSE_OP_JMP = 0x36,
    WSE_OP_CALL = 0x37,
    WSE_OP_JR = 0x38,
    WSE_OP_ADDF = 0x40,
    WSE_OP_SUBF = 0x41,
    WSE_OP_MULF = 0x42,
    WSE_OP_MAXF = 0x43,
    WSE_OP_MINF = 0x44,
    WSE_OP_NEGF = 0x45,
    WSE_OP_ABSF = 0x46,
    WSE_OP_FEQ = 0x47,
    WSE_OP_FLT = 0x48,
    WSE_OP_FLE = 0x49,
    WSE_OP_I2F = 0x4a,
    WSE_OP_F2I = 0x4b,
    WSE_OP_H2F = 0x4c,
    WSE_OP_F2H = 0x4d,
    WSE_OP_MACF = 0x4e,
    WSE_OP_LDSD = 0x50,
    WSE_OP_DSDBASE = 0x51,
    WSE_OP_DSDADD = 0x52,
    WSE_OP_DSDADDI = 0x53,
    WSE_OP_DSDLEN = 0x54,
    WSE_OP_ACTIVATE = 0x58,
    WSE_OP_BLOCK = 0x59,
    WSE_OP_UNBLOCK = 0x5a,
    WSE_OP_SEND = 0x5b,
    WSE_OP_SENDC = 0x5c,
    WSE_OP_FMOVH_V = 0x80,
    WSE_OP_FMOVH_S = 0x81,
    WSE_OP_FADDH_VV = 0x82,
    WSE_OP_FADDH_VS = 0x83,
    WSE_OP_FSUBH_VV = 0x84,
    WSE_OP_FSUBH_VS = 0x85,
    WSE_OP_FMULH_VV = 0x86,
    WSE_OP_FMULH_VS = 0x87,
    WSE_OP_FMACH = 0x88,
    WSE_OP_FMAXH_VV = 0x89,
    WSE_OP_FMAXH_VS = 0x8a,
    WSE_OP_FNEGH = 0x8b,
    WSE_OP_FABSH = 0x8c,
    WSE_OP_FMOVS_V = 0x90,
    WSE_OP_FMOVS_S = 0x91,
    WSE_OP_FADDS_VV = 0x92,
    WSE_OP_FADDS_VS = 0x93,
    WSE_OP_FSUBS_VV = 0x94,
    WSE_OP_FSUBS_VS = 0x95,
    WSE_OP_FMULS_VV = 0x96,
    WSE_OP_FMULS_VS = 0x97,
    WSE_OP_FMACS = 0x98,
    WSE_OP_FMAXS_VV = 0x99,
    WSE_OP_FMAXS_VS = 0x9a,
    WSE_OP_FNEGS = 0x9b,
    WSE_OP_FABSS = 0x9c,
    WSE_OP_FADDHS = 0xa0,
    WSE_OP_FMACHS = 0xa1,
    WSE_OP_FH2S = 0xa2,
    WSE_OP_FS2H = 0xa3,
    WSE_OP_ADD16_VV = 0xb0,
    WSE_OP_ADD16_VS = 0xb1,
    WSE_OP_SUB16_VV = 0xb2,
    WSE_OP_SUB16_VS = 0xb3,
    WSE_OP_AND16_VV = 0xb4,
    WSE_OP_AND16_VS = 0xb5,
    WSE_OP_OR16_VV = 0xb6,
    WSE_OP_OR16_VS = 0xb7,
    WSE_OP_XOR16_VV = 0xb8,
    WSE_OP_XOR16_VS = 0xb9,
    WSE_OP_SLL16_VV = 0xba,
    WSE_OP_SLL16_VS = 0xbb,
    WSE_OP_SLR16_VV = 0xbc,
    WSE_OP_SLR16_VS = 0xbd,
    WSE_OP_SAR16_VV = 0xbe,
    WSE_OP_SAR16_VS = 0xbf,
    WSE_OP_MOV16_V = 0xc0,
    WSE_OP_MOV16_S = 0xc1,
    WSE_OP_MOV32_V = 0xc2,
    WSE_OP_MOV32_S = 0xc3,
};

/* Cost classes. */
enum wse_class {
    WSE_CLS_SCALAR = 0,
    WSE_CLS_SEND = 1,
    WSE_CLS_H_ARITH = 2,
    WSE_CLS_S_ARITH = 3,
    WSE_CLS_S_MUL = 4,
    WSE_CLS_MIXED = 5,
    WSE_CLS_H_MAX = 6,
    WSE_CLS_S_MAX = 7,
    WSE_CLS_CONV = 8,
    WSE_CLS_I16 = 9,
    WSE_CLS_MOV32 = 10,
    WSE_CLS_SHIFT16 = 11,
    WSE_NUM_CLASSES = 12
};

/* Element types of tensor operands. */
enum wse_etype { WSE_T_NONE = 0, WSE_T_H = 1, WSE_T_S = 2, WSE_T_U16 = 3, WSE_T_U32 = 4 };
/* Tensor operand forms. */
enum wse_form { WSE_FORM_NONE = 0, WSE_FORM_VV = 1, WSE_FORM_VS = 2, WSE_FORM_V = 3, WSE_FORM_S = 4, WSE_FORM_VVS = 5 };

/* X(NAME, opcode, mask, match, class, sync, form, tdst, tsrc0, tsrc1, mnemonic)
   The core defines one case per NAME; a missing one is a build error (-Wswitch-enum). */
#define WSE_INSN_LIST(X) \
    X(NOP, 0x01, 0xffffffffu, 0x01000000u, 0, 0, 0, 0, 0, 0, "nop") \
    X(EXIT, 0x02, 0xffffffffu, 0x02000000u, 0, 1, 0, 0, 0, 0, "exit") \
    X(TRAP, 0x03, 0xffff0000u, 0x03000000u, 0, 1, 0, 0, 0, 0, "trap") \
    X(RDCYC, 0x04, 0xff0fffffu, 0x04000000u, 0, 0, 0, 0, 0, 0, "rdcyc") \
    X(RDCYCH, 0x05, 0xff0fffffu, 0x05000000u, 0, 0, 0, 0, 0, 0, "rdcych") \
    X(ADD, 0x08, 0xff000fffu, 0x08000000u, 0, 0, 0, 0, 0, 0, "add") \
    X(SUB, 0x09, 0xff000fffu, 0x09000000u, 0, 0, 0, 0, 0, 0, "sub") \
    X(AND, 0x0a, 0xff000fffu, 0x0a000000u, 0, 0, 0, 0, 0, 0, "and") \
    X(OR, 0x0b, 0xff000fffu, 0x0b000000u, 0, 0, 0, 0, 0, 0, "or") \
    X(XOR, 0x0c, 0xff000fffu, 0x0c000000u, 0, 0, 0, 0, 0, 0, "xor") \
    X(SLL, 0x0d, 0xff000fffu, 0x0d000000u, 0, 0, 0, 0, 0, 0, "sll") \
    X(SRL, 0x0e, 0xff000fffu, 0x0e000000u, 0, 0, 0, 0, 0, 0, "srl") \
    X(SRA, 0x0f, 0xff000fffu, 0x0f000000u, 0, 0, 0, 0, 0, 0, "sra") \
    X(MUL, 0x10, 0xff000fffu, 0x10000000u, 0, 0, 0, 0, 0, 0, "mul") \
    X(SLT, 0x11, 0xff000fffu, 0x11000000u, 0, 0, 0, 0, 0, 0, "slt") \
    X(SLTU, 0x12, 0xff000fffu, 0x12000000u, 0, 0, 0, 0, 0, 0, "sltu") \
    X(ADDI, 0x18, 0xff000000u, 0x18000000u, 0, 0, 0, 0, 0, 0, "addi") \
    X(ANDI, 0x19, 0xff000000u, 0x19000000u, 0, 0, 0, 0, 0, 0, "andi") \
    X(ORI, 0x1a, 0xff000000u, 0x1a000000u, 0, 0, 0, 0, 0, 0, "ori") \
    X(XORI, 0x1b, 0xff000000u, 0x1b000000u, 0, 0, 0, 0, 0, 0, "xori") \
    X(SLLI, 0x1c, 0xff00ffe0u, 0x1c000000u, 0, 0, 0, 0, 0, 0, "slli") \
    X(SRLI, 0x1d, 0xff00ffe0u, 0x1d000000u, 0, 0, 0, 0, 0, 0, "srli") \
    X(SRAI, 0x1e, 0xff00ffe0u, 0x1e000000u, 0, 0, 0, 0, 0, 0, "srai") \
    X(LUI, 0x1f, 0xff0f0000u, 0x1f000000u, 0, 0, 0, 0, 0, 0, "lui") \
    X(SLTI, 0x20, 0xff000000u, 0x20000000u, 0, 0, 0, 0, 0, 0, "slti") \
    X(LD16, 0x28, 0xff000000u, 0x28000000u, 0, 0, 0, 0, 0, 0, "ld16") \
    X(LD16S, 0x29, 0xff000000u, 0x29000000u, 0, 0, 0, 0, 0, 0, "ld16s") \
    X(LD32, 0x2a, 0xff000000u, 0x2a000000u, 0, 0, 0, 0, 0, 0, "ld32") \
    X(ST16, 0x2b, 0xff000000u, 0x2b000000u, 0, 0, 0, 0, 0, 0, "st16") \
    X(ST32, 0x2c, 0xff000000u, 0x2c000000u, 0, 0, 0, 0, 0, 0, "st32") \
    X(BEQ, 0x30, 0xff000000u, 0x30000000u, 0, 0, 0, 0, 0, 0, "beq") \
    X(BNE, 0x31, 0xff000000u, 0x31000000u, 0, 0, 0, 0, 0, 0, "bne") \
    X(BLT, 0x32, 0xff000000u, 0x32000000u, 0, 0, 0, 0, 0, 0, "blt") \
    X(BGE, 0x33, 0xff000000u, 0x33000000u, 0, 0, 0, 0, 0, 0, "bge") \
    X(BLTU, 0x34, 0xff000000u, 0x34000000u, 0, 0, 0, 0, 0, 0, "bltu") \
    X(BGEU, 0x35, 0xff000000u, 0x35000000u, 0, 0, 0, 0, 0, 0, "bgeu") \
    X(JMP, 0x36, 0xff000000u, 0x36000000u, 0, 0, 0, 0, 0, 0, "jmp") \
    X(CALL, 0x37, 0xff000000u, 0x37000000u, 0, 0, 0, 0, 0, 0, "call") \
    X(JR, 0x38, 0xff0fffffu, 0x38000000u, 0, 0, 0, 0, 0, 0, "jr") \
    X(ADDF, 0x40, 0xff000fffu, 0x40000000u, 0, 0, 0, 0, 0, 0, "addf") \
    X(SUBF, 0x41, 0xff000fffu, 0x41000000u, 0, 0, 0, 0, 0, 0, "subf") \
    X(MULF, 0x42, 0xff000fffu, 0x42000000u, 0, 0, 0, 0, 0, 0, "mulf") \
    X(MAXF, 0x43, 0xff000fffu, 0x43000000u, 0, 0, 0, 0, 0, 0, "maxf") \
    X(MINF, 0x44, 0xff000fffu, 0x44000000u, 0, 0, 0, 0, 0, 0, "minf") \
    X(NEGF, 0x45, 0xff00ffffu, 0x45000000u, 0, 0, 0, 0, 0, 0, "negf") \
    X(ABSF, 0x46, 0xff00ffffu, 0x46000000u, 0, 0, 0, 0, 0, 0, "absf") \
    X(FEQ, 0x47, 0xff000fffu, 0x47000000u, 0, 0, 0, 0, 0, 0, "feq") \
    X(FLT, 0x48, 0xff000fffu, 0x48000000u, 0, 0, 0, 0, 0, 0, "flt") \
    X(FLE, 0x49, 0xff000fffu, 0x49000000u, 0, 0, 0, 0, 0, 0, "fle") \
    X(I2F, 0x4a, 0xff00ffffu, 0x4a000000u, 0, 0, 0, 0, 0, 0, "i2f") \
    X(F2I, 0x4b, 0xff00ffffu, 0x4b000000u, 0, 0, 0, 0, 0, 0, "f2i") \
    X(H2F, 0x4c, 0xff00ffffu, 0x4c000000u, 0, 0, 0, 0, 0, 0, "h2f") \
    X(F2H, 0x4d, 0xff00ffffu, 0x4d000000u, 0, 0, 0, 0, 0, 0, "f2h") \
    X(MACF, 0x4e, 0xff000fffu, 0x4e000000u, 0, 0, 0, 0, 0, 0, "macf") \
    X(LDSD, 0x50, 0xff070000u, 0x50000000u, 0, 0, 0, 0, 0, 0, "ldsd") \
    X(DSDBASE, 0x51, 0xff007fffu, 0x51000000u, 0, 0, 0, 0, 0, 0, "dsdbase") \
    X(DSDADD, 0x52, 0xff007fffu, 0x52000000u, 0, 0, 0, 0, 0, 0, "dsdadd") \
    X(DSDADDI, 0x53, 0xff070000u, 0x53000000u, 0, 0, 0, 0, 0, 0, "dsdaddi") \
    X(DSDLEN, 0x54, 0xff007fffu, 0x54000000u, 0, 0, 0, 0, 0, 0, "dsdlen") \
    X(ACTIVATE, 0x58, 0xffffffc0u, 0x58000000u, 0, 1, 0, 0, 0, 0, "activate") \
    X(BLOCK, 0x59, 0xffffffc0u, 0x59000000u, 0, 1, 0, 0, 0, 0, "block") \
    X(UNBLOCK, 0x5a, 0xffffffc0u, 0x5a000000u, 0, 1, 0, 0, 0, 0, "unblock") \
    X(SEND, 0x5b, 0xff007fffu, 0x5b000000u, 1, 1, 0, 0, 0, 0, "send") \
    X(SENDC, 0x5c, 0xff007fffu, 0x5c000000u, 1, 1, 0, 0, 0, 0, "sendc") \
    X(FMOVH_V, 0x80, 0xff03f800u, 0x80000000u, 2, 0, 3, 1, 1, 0, "fmovh") \
    X(FMOVH_S, 0x81, 0xff1f8000u, 0x81000000u, 2, 0, 4, 1, 0, 0, "fmovh") \
    X(FADDH_VV, 0x82, 0xff007800u, 0x82000000u, 2, 0, 1, 1, 1, 1, "faddh") \
    X(FADDH_VS, 0x83, 0xff038000u, 0x83000000u, 2, 0, 2, 1, 1, 0, "faddh") \
    X(FSUBH_VV, 0x84, 0xff007800u, 0x84000000u, 2, 0, 1, 1, 1, 1, "fsubh") \
    X(FSUBH_VS, 0x85, 0xff038000u, 0x85000000u, 2, 0, 2, 1, 1, 0, "fsubh") \
    X(FMULH_VV, 0x86, 0xff007800u, 0x86000000u, 2, 0, 1, 1, 1, 1, "fmulh") \
    X(FMULH_VS, 0x87, 0xff038000u, 0x87000000u, 2, 0, 2, 1, 1, 0, "fmulh") \
    X(FMACH, 0x88, 0xff000000u, 0x88000000u, 2, 0, 5, 1, 1, 1, "fmach") \
    X(FMAXH_VV, 0x89, 0xff007800u, 0x89000000u, 6, 0, 1, 1, 1, 1, "fmaxh") \
    X(FMAXH_VS, 0x8a, 0xff038000u, 0x8a000000u, 6, 0, 2, 1, 1, 0, "fmaxh") \
    X(FNEGH, 0x8b, 0xff03f800u, 0x8b000000u, 2, 0, 3, 1, 1, 0, "fnegh") \
    X(FABSH, 0x8c, 0xff03f800u, 0x8c000000u, 2, 0, 3, 1, 1, 0, "fabsh") \
    X(FMOVS_V, 0x90, 0xff03f800u, 0x90000000u, 3, 0, 3, 2, 2, 0, "fmovs") \
    X(FMOVS_S, 0x91, 0xff1f8000u, 0x91000000u, 3, 0, 4, 2, 0, 0, "fmovs") \
    X(FADDS_VV, 0x92, 0xff007800u, 0x92000000u, 3, 0, 1, 2, 2, 2, "fadds") \
    X(FADDS_VS, 0x93, 0xff038000u, 0x93000000u, 3, 0, 2, 2, 2, 0, "fadds") \
    X(FSUBS_VV, 0x94, 0xff007800u, 0x94000000u, 3, 0, 1, 2, 2, 2, "fsubs") \
    X(FSUBS_VS, 0x95, 0xff038000u, 0x95000000u, 3, 0, 2, 2, 2, 0, "fsubs") \
    X(FMULS_VV, 0x96, 0xff007800u, 0x96000000u, 4, 0, 1, 2, 2, 2, "fmuls") \
    X(FMULS_VS, 0x97, 0xff038000u, 0x97000000u, 4, 0, 2, 2, 2, 0, "fmuls") \
    X(FMACS, 0x98, 0xff000000u, 0x98000000u, 4, 0, 5, 2, 2, 2, "fmacs") \
    X(FMAXS_VV, 0x99, 0xff007800u, 0x99000000u, 7, 0, 1, 2, 2, 2, "fmaxs") \
    X(FMAXS_VS, 0x9a, 0xff038000u, 0x9a000000u, 7, 0, 2, 2, 2, 0, "fmaxs") \
    X(FNEGS, 0x9b, 0xff03f800u, 0x9b000000u, 3, 0, 3, 2, 2, 0, "fnegs") \
    X(FABSS, 0x9c, 0xff03f800u, 0x9c000000u, 3, 0, 3, 2, 2, 0, "fabss") \
    X(FADDHS, 0xa0, 0xff007800u, 0xa0000000u, 5, 0, 1, 2, 2, 1, "faddhs") \
    X(FMACHS, 0xa1, 0xff000000u, 0xa1000000u, 5, 0, 5, 2, 2, 1, "fmachs") \
    X(FH2S, 0xa2, 0xff03f800u, 0xa2000000u, 8, 0, 3, 2, 1, 0, "fh2s") \
    X(FS2H, 0xa3, 0xff03f800u, 0xa3000000u, 8, 0, 3, 1, 2, 0, "fs2h") \
    X(ADD16_VV, 0xb0, 0xff007800u, 0xb0000000u, 9, 0, 1, 3, 3, 3, "add16") \
    X(ADD16_VS, 0xb1, 0xff038000u, 0xb1000000u, 9, 0, 2, 3, 3, 0, "add16") \
    X(SUB16_VV, 0xb2, 0xff007800u, 0xb2000000u, 9, 0, 1, 3, 3, 3, "sub16") \
    X(SUB16_VS, 0xb3, 0xff038000u, 0xb3000000u, 9, 0, 2, 3, 3, 0, "sub16") \
    X(AND16_VV, 0xb4, 0xff007800u, 0xb4000000u, 9, 0, 1, 3, 3, 3, "and16") \
    X(AND16_VS, 0xb5, 0xff038000u, 0xb5000000u, 9, 0, 2, 3, 3, 0, "and16") \
    X(OR16_VV, 0xb6, 0xff007800u, 0xb6000000u, 9, 0, 1, 3, 3, 3, "or16") \
    X(OR16_VS, 0xb7, 0xff038000u, 0xb7000000u, 9, 0, 2, 3, 3, 0, "or16") \
    X(XOR16_VV, 0xb8, 0xff007800u, 0xb8000000u, 9, 0, 1, 3, 3, 3, "xor16") \
    X(XOR16_VS, 0xb9, 0xff038000u, 0xb9000000u, 9, 0, 2, 3, 3, 0, "xor16") \
    X(SLL16_VV, 0xba, 0xff007800u, 0xba000000u, 11, 0, 1, 3, 3, 3, "sll16") \
    X(SLL16_VS, 0xbb, 0xff038000u, 0xbb000000u, 11, 0, 2, 3, 3, 0, "sll16") \
    X(SLR16_VV, 0xbc, 0xff007800u, 0xbc000000u, 11, 0, 1, 3, 3, 3, "slr16") \
    X(SLR16_VS, 0xbd, 0xff038000u, 0xbd000000u, 11, 0, 2, 3, 3, 0, "slr16") \
    X(SAR16_VV, 0xbe, 0xff007800u, 0xbe000000u, 11, 0, 1, 3, 3, 3, "sar16") \
    X(SAR16_VS, 0xbf, 0xff038000u, 0xbf000000u, 11, 0, 2, 3, 3, 0, "sar16") \
    X(MOV16_V, 0xc0, 0xff03f800u, 0xc0000000u, 9, 0, 3, 3, 3, 0, "mov16") \
    X(MOV16_S, 0xc1, 0xff1f8000u, 0xc1000000u, 9, 0, 4, 3, 0, 0, "mov16") \
    X(MOV32_V, 0xc2, 0xff03f800u, 0xc2000000u, 10, 0, 3, 4, 4, 0, "mov32") \
    X(MOV32_S, 0xc3, 0xff1f8000u, 0xc3000000u, 10, 0, 4, 4, 0, 0, "mov32") \

/* X(NAME, operands): the operand syntax of each encoding, for the C disassembler.
   Comma-separated tokens: a field name, "mem" for "[r2 + imm16]", or "async" for the
   optional async clause (act, ut, tid). */
#define WSE_INSN_OPERANDS(X) \
    X(NOP, "") \
    X(EXIT, "") \
    X(TRAP, "uimm16") \
    X(RDCYC, "r1") \
    X(RDCYCH, "r1") \
    X(ADD, "r1,r2,r3") \
    X(SUB, "r1,r2,r3") \
    X(AND, "r1,r2,r3") \
    X(OR, "r1,r2,r3") \
    X(XOR, "r1,r2,r3") \
    X(SLL, "r1,r2,r3") \
    X(SRL, "r1,r2,r3") \
    X(SRA, "r1,r2,r3") \
    X(MUL, "r1,r2,r3") \
    X(SLT, "r1,r2,r3") \
    X(SLTU, "r1,r2,r3") \
    X(ADDI, "r1,r2,imm16") \
    X(ANDI, "r1,r2,uimm16") \
    X(ORI, "r1,r2,uimm16") \
    X(XORI, "r1,r2,uimm16") \
    X(SLLI, "r1,r2,shamt") \
    X(SRLI, "r1,r2,shamt") \
    X(SRAI, "r1,r2,shamt") \
    X(LUI, "r1,uimm16") \
    X(SLTI, "r1,r2,imm16") \
    X(LD16, "r1,mem") \
    X(LD16S, "r1,mem") \
    X(LD32, "r1,mem") \
    X(ST16, "r1,mem") \
    X(ST32, "r1,mem") \
    X(BEQ, "r1,r2,off16") \
    X(BNE, "r1,r2,off16") \
    X(BLT, "r1,r2,off16") \
    X(BGE, "r1,r2,off16") \
    X(BLTU, "r1,r2,off16") \
    X(BGEU, "r1,r2,off16") \
    X(JMP, "tgt24") \
    X(CALL, "tgt24") \
    X(JR, "r1") \
    X(ADDF, "r1,r2,r3") \
    X(SUBF, "r1,r2,r3") \
    X(MULF, "r1,r2,r3") \
    X(MAXF, "r1,r2,r3") \
    X(MINF, "r1,r2,r3") \
    X(NEGF, "r1,r2") \
    X(ABSF, "r1,r2") \
    X(FEQ, "r1,r2,r3") \
    X(FLT, "r1,r2,r3") \
    X(FLE, "r1,r2,r3") \
    X(I2F, "r1,r2") \
    X(F2I, "r1,r2") \
    X(H2F, "r1,r2") \
    X(F2H, "r1,r2") \
    X(MACF, "r1,r2,r3") \
    X(LDSD, "dsr,dsdidx") \
    X(DSDBASE, "dsr,rq") \
    X(DSDADD, "dsr,rq") \
    X(DSDADDI, "dsr,imm16") \
    X(DSDLEN, "dsr,rq") \
    X(ACTIVATE, "tid") \
    X(BLOCK, "tid") \
    X(UNBLOCK, "tid") \
    X(SEND, "color,rq") \
    X(SENDC, "color,rq") \
    X(FMOVH_V, "dd,da,async") \
    X(FMOVH_S, "dd,rs,async") \
    X(FADDH_VV, "dd,da,db,async") \
    X(FADDH_VS, "dd,da,rs,async") \
    X(FSUBH_VV, "dd,da,db,async") \
    X(FSUBH_VS, "dd,da,rs,async") \
    X(FMULH_VV, "dd,da,db,async") \
    X(FMULH_VS, "dd,da,rs,async") \
    X(FMACH, "dd,da,db,rs,async") \
    X(FMAXH_VV, "dd,da,db,async") \
    X(FMAXH_VS, "dd,da,rs,async") \
    X(FNEGH, "dd,da,async") \
    X(FABSH, "dd,da,async") \
    X(FMOVS_V, "dd,da,async") \
    X(FMOVS_S, "dd,rs,async") \
    X(FADDS_VV, "dd,da,db,async") \
    X(FADDS_VS, "dd,da,rs,async") \
    X(FSUBS_VV, "dd,da,db,async") \
    X(FSUBS_VS, "dd,da,rs,async") \
    X(FMULS_VV, "dd,da,db,async") \
    X(FMULS_VS, "dd,da,rs,async") \
    X(FMACS, "dd,da,db,rs,async") \
    X(FMAXS_VV, "dd,da,db,async") \
    X(FMAXS_VS, "dd,da,rs,async") \
    X(FNEGS, "dd,da,async") \
    X(FABSS, "dd,da,async") \
    X(FADDHS, "dd,da,db,async") \
    X(FMACHS, "dd,da,db,rs,async") \
    X(FH2S, "dd,da,async") \
    X(FS2H, "dd,da,async") \
    X(ADD16_VV, "dd,da,db,async") \
    X(ADD16_VS, "dd,da,rs,async") \
    X(SUB16_VV, "dd,da,db,async") \
    X(SUB16_VS, "dd,da,rs,async") \
    X(AND16_VV, "dd,da,db,async") \
    X(AND16_VS, "dd,da,rs,async") \
    X(OR16_VV, "dd,da,db,async") \
    X(OR16_VS, "dd,da,rs,async") \
    X(XOR16_VV, "dd,da,db,async") \
    X(XOR16_VS, "dd,da,rs,async") \
    X(SLL16_VV, "dd,da,db,async") \
    X(SLL16_VS, "dd,da,rs,async") \
    X(SLR16_VV, "dd,da,db,async") \
    X(SLR16_VS, "dd,da,rs,async") \
    X(SAR16_VV, "dd,da,db,async") \
    X(SAR16_VS, "dd,da,rs,async") \
    X(MOV16_V, "dd,da,async") \
    X(MOV16_S, "dd,rs,async") \
    X(MOV32_V, "dd,da,async") \
    X(MOV32_S, "dd,rs,async") \

/* Architecture presets. */
typedef struct wse_preset {
    const char *name;
    uint64_t clock_hz;
    uint32_t sram_words, sram_banks, colors, task_ids, microthreads;
    uint8_t iq_depth[8], oq_depth[8];
    uint32_t router_depth, hop_latency, task_switch;
    uint32_t simd[WSE_NUM_CLASSES]; /* 0 for scalar classes */
    uint32_t scalar_cycles[WSE_NUM_CLASSES]; /* 0 for tensor classes */
} wse_preset;

#define WSE_MAX_QUEUE_DEPTH 8   /* iq, oq and router depths of every preset */
#define WSE_MAX_COLORS 24   /* the most colors of any preset */
#define WSE_MAX_TASK_IDS 64   /* the most task ids of any preset */
#define WSE_MAX_MICROTHREADS 8   /* the most microthreads of any preset */
#define WSE_NUM_DSRS 24   /* a dsr field: file * 8 + index */
#define WSE_NUM_PRESETS 2
#define WSE_PRESETS_INIT { \
    { "wse2", 850000000ull, 24576, 8, 24, 64, 8, {6, 6, 4, 4, 2, 2, 2, 2}, {2, 2, 6, 6, 2, 2, 2, 2}, 4, 2, 1, {0, 0, 4, 2, 2, 2, 1, 1, 1, 4, 2, 1}, {1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0} }, \
    { "wse3", 1100000000ull, 24576, 8, 24, 64, 8, {8, 8, 4, 4, 4, 4, 4, 4}, {8, 8, 8, 8, 8, 8, 8, 8}, 4, 2, 1, {0, 0, 8, 4, 4, 4, 8, 4, 4, 8, 4, 4}, {1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0} }, \
}

/* DSD kinds, ports, task kinds and object-format constants (docs/object-format.md). */
#define WSE_DSD_MEM1D 1
#define WSE_DSD_MEM4D 2
#define WSE_DSD_FABIN 3
#define WSE_DSD_FABOUT 4
#define WSE_PORT_NORTH 1
#define WSE_PORT_EAST 2
#define WSE_PORT_SOUTH 4
#define WSE_PORT_WEST 8
#define WSE_PORT_RAMP 16
#define WSE_TASK_LOCAL 0
#define WSE_TASK_DATA 1
#define WSE_TASK_CONTROL 2
#define WSE_OBJ_MAGIC "WSEO"
#define WSE_OBJ_VERSION 3
#define WSE_SEC_STRTAB 1
#define WSE_SEC_IMAGES 2
#define WSE_SEC_PLACEMENT 3
#define WSE_SEC_SYMBOLS 4
#define WSE_SEC_LINES 5
#define WSE_SEC_EXPANSIONS 6
#define WSE_SYM_F16 1
#define WSE_SYM_F32 2
#define WSE_SYM_U16 3
#define WSE_SYM_U32 4
#define WSE_SYM_TASK 5

/* The names the assembler reserves (registers, DSRs, microthreads, built-ins, inf, nan),
   sorted by strcmp: a reader refuses a symbol named so (objfile.reserved_names). */
#define WSE_NUM_RESERVED_NAMES 60
#define WSE_RESERVED_NAMES_INIT { \
    "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "abs_x", "abs_y", \
    "b0", "b1", "b2", "b3", "b4", "b5", "b6", "b7", "d0", "d1", \
    "d2", "d3", "d4", "d5", "d6", "d7", "fabric_h", "fabric_w", "inf", "lr", \
    "nan", "pe_x", "pe_y", "r0", "r1", "r10", "r11", "r12", "r13", "r14", \
    "r15", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "rect_h", \
    "rect_w", "ut0", "ut1", "ut2", "ut3", "ut4", "ut5", "ut6", "ut7", "zero", \
}

#endif /* WSE_ISA_H */
