#include "class_prover.h"

#include <cstring>

#include "class_bqfc.h"

namespace vigil::cg {

namespace {

void pack(PackedForm& p, const Form& f) {
  p.an = static_cast<uint8_t>(f.a.n);
  p.bn = static_cast<uint8_t>(f.b.n);
  p.cn = static_cast<uint8_t>(f.c.n);
  p.bneg = f.b.neg ? 1 : 0;
  std::memcpy(p.a, f.a.d, sizeof(limb) * f.a.n);
  std::memcpy(p.b, f.b.d, sizeof(limb) * f.b.n);
  std::memcpy(p.c, f.c.d, sizeof(limb) * f.c.n);
}

void unpack(Form& f, const PackedForm& p) {
  f.a.n = p.an;
  f.a.neg = false;
  f.b.n = p.bn;
  f.b.neg = p.bneg != 0;
  f.c.n = p.cn;
  f.c.neg = false;
  std::memcpy(f.a.d, p.a, sizeof(limb) * p.an);
  std::memcpy(f.b.d, p.b, sizeof(limb) * p.bn);
  std::memcpy(f.c.d, p.c, sizeof(limb) * p.cn);
}

}  // namespace

ClassBucketPass::ClassBucketPass(const BIGNUM* ell, const BIGNUM* rem, const BIGNUM* stepDown,
                                 unsigned k, uint64_t count)
    : count_(count) {
  ok_ = digits_.init(ell, rem, stepDown, k);
  buckets_.resize(size_t{1} << k);
  used_.assign(size_t{1} << k, 0);
}

bool ClassBucketPass::add(const Form& checkpoint, const Int& L) {
  size_t digit = 0;
  if (!digits_.next(&digit)) return false;
  if (digit == 0) return true;
  if (!used_[digit]) {
    pack(buckets_[digit], checkpoint);
    used_[digit] = 1;
    return true;
  }
  Form y, product;
  unpack(y, buckets_[digit]);
  nucomp(product, y, checkpoint, L);
  pack(buckets_[digit], product);
  return true;
}

void ClassBucketPass::finish(Form* out, bool* empty, const Int& L) {
  Form running, total, y, next;
  bool haveRunning = false, haveTotal = false;
  // acc <- acc·x, or x when acc holds nothing yet.
  const auto fold = [&](Form& acc, bool& have, const Form& x) {
    if (have) {
      nucomp(next, acc, x, L);
      acc = next;
    } else {
      acc = x;
      have = true;
    }
  };
  for (size_t b = buckets_.size() - 1; b >= 1; b--) {
    if (used_[b]) {
      unpack(y, buckets_[b]);
      fold(running, haveRunning, y);
    }
    if (haveRunning) fold(total, haveTotal, running);
  }
  *empty = !haveTotal;
  if (haveTotal) *out = total;
  std::vector<PackedForm>().swap(buckets_);
  std::vector<uint8_t>().swap(used_);
}

ClassProver::ClassProver(const Int& D, const Int& L, const BIGNUM* ell, unsigned k,
                         const std::vector<PassPlan>& plans) {
  D_.copy(D);
  L_.copy(L);
  for (const PassPlan& plan : plans) {
    passes_.push_back(
        std::make_unique<ClassBucketPass>(ell, plan.rem, plan.stepDown, k, plan.count));
    if (!passes_.back()->ok()) {
      fail("OpenSSL set-up of the digit walk failed");
      return;
    }
    if (plan.count > longest_) longest_ = plan.count;
  }
}

bool ClassProver::fail(const std::string& why) {
  if (error_.empty()) error_ = why;
  done_ = true;
  return false;
}

bool ClassProver::feed(const uint8_t* bqfc, size_t count, size_t* bad) {
  if (done_) return fail("prover already finished");
  if (count > longest_ - fed_) return fail("more checkpoints than the passes read");
  Form f;
  for (size_t i = 0; i < count; i++, fed_++) {
    const char* why = nullptr;
    if (!decodeBqfc(bqfc + i * kBqfcBytes, D_, &f, &why)) {
      *bad = i;
      return fail(std::string("element: ") + why);
    }
    for (auto& pass : passes_)
      if (fed_ < pass->count() && !pass->add(f, L_)) return fail("OpenSSL arithmetic failed");
  }
  return true;
}

bool ClassProver::finish(std::vector<Form>* out, std::vector<uint8_t>* empty) {
  if (done_) return fail("prover already finished");
  if (fed_ < longest_) return fail("the checkpoints ended before the passes had read them all");
  done_ = true;
  out->resize(passes_.size());
  empty->resize(passes_.size());
  for (size_t i = 0; i < passes_.size(); i++) {
    bool none = false;
    passes_[i]->finish(&(*out)[i], &none, L_);
    (*empty)[i] = none ? 1 : 0;
  }
  passes_.clear();
  return true;
}

}  // namespace vigil::cg
