#include "codegen/cpu/llvm_util.h"

#include "ir/error.h"

namespace loom::codegen {

llvm::Type* memory_type(llvm::LLVMContext& ctx, DType dt) {
  switch (dt) {
  case DType::F32:
    return llvm::Type::getFloatTy(ctx);
  case DType::F64:
    return llvm::Type::getDoubleTy(ctx);
  case DType::F16:
    return llvm::Type::getHalfTy(ctx);
  case DType::BF16:
    return llvm::Type::getBFloatTy(ctx);
  case DType::I8:
    return llvm::Type::getInt8Ty(ctx);
  case DType::I32:
    return llvm::Type::getInt32Ty(ctx);
  case DType::I64:
    return llvm::Type::getInt64Ty(ctx);
  case DType::Bool:
    return llvm::Type::getInt8Ty(ctx);
  }
  throw_error(ErrorCode::Internal, "bad dtype");
}

llvm::Type* register_type(llvm::LLVMContext& ctx, DType dt) {
  return dt == DType::Bool ? llvm::Type::getInt1Ty(ctx) : memory_type(ctx, dt);
}

bool lowerable_dtype(DType dt) { return dt != DType::F16 && dt != DType::BF16; }

void emit_loop(llvm::IRBuilder<>& b, llvm::Value* begin, llvm::Value* end,
               const std::function<void(llvm::Value* iv)>& body, const char* name, bool fold_tail) {
  llvm::Function* fn = b.GetInsertBlock()->getParent();
  llvm::LLVMContext& ctx = fn->getContext();
  llvm::BasicBlock* pre = b.GetInsertBlock();
  llvm::BasicBlock* header = llvm::BasicBlock::Create(ctx, std::string(name) + ".header", fn);
  llvm::BasicBlock* body_bb = llvm::BasicBlock::Create(ctx, std::string(name) + ".body", fn);
  llvm::BasicBlock* exit = llvm::BasicBlock::Create(ctx, std::string(name) + ".exit", fn);
  b.CreateBr(header);
  b.SetInsertPoint(header);
  llvm::PHINode* iv = b.CreatePHI(begin->getType(), 2, name);
  iv->addIncoming(begin, pre);
  b.CreateCondBr(b.CreateICmpSLT(iv, end), body_bb, exit);
  b.SetInsertPoint(body_bb);
  body(iv);
  llvm::Value* next =
      b.CreateAdd(iv, llvm::ConstantInt::get(iv->getType(), 1), "", /*NUW=*/true, /*NSW=*/true);
  iv->addIncoming(next, b.GetInsertBlock());
  llvm::BranchInst* latch = b.CreateBr(header);
  if (fold_tail) {
    llvm::Metadata* predicate[] = {llvm::MDString::get(ctx, "llvm.loop.vectorize.predicate.enable"),
                                   llvm::ConstantAsMetadata::get(b.getTrue())};
    llvm::Metadata* ops[] = {nullptr, llvm::MDNode::get(ctx, predicate)};
    llvm::MDNode* loop_id = llvm::MDNode::getDistinct(ctx, ops);
    loop_id->replaceOperandWith(0, loop_id);
    latch->setMetadata(llvm::LLVMContext::MD_loop, loop_id);
  }
  b.SetInsertPoint(exit);
}

} // namespace loom::codegen
