// Binary quadratic forms (a, b, c) of a negative discriminant D on fixed-capacity integers, and
// the class1024 evaluation chain: NUDUPL squaring (the same formulas as vdf/class1024/fast.ts)
// with a Lehmer partial Euclid, the reduction deferred while a stays within 512 bits (a form
// need not be reduced to be squared; only recorded elements must be).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "class_int.h"

namespace vigil::cg {

struct Form {
  Int a, b, c;
};

// Bytes of one recorded form: a (64 bytes), then b's sign (0 or 1) and |b| (64 bytes), big-endian.
constexpr size_t kFormHalfBytes = 64;
constexpr size_t kFormRecordBytes = 2 * kFormHalfBytes + 1;

// The unique reduced form equivalent to f (a > 0, D < 0).
void reduce(Form& f);

// f <- f² by NUDUPL with partial-reduction bound L = floor(|D|^(1/4)); f is left unreduced.
void nudupl(Form& f, const Int& L);

// out <- f1·f2 by NUCOMP (forms of one discriminant, out distinct from both); out is reduced.
void nucomp(Form& out, const Form& f1, const Form& f2, const Int& L);

// The reduced form of ∏ bases[i]^exps[i] (exponents >= 0, big-endian bytes): one shared run of
// squarings with interleaved width-4 sliding windows, as vdf/class1024/pow.ts. `identity` is the
// result when every exponent is zero.
void multiExp(Form& out, const Form* bases, const std::vector<std::vector<uint8_t>>& exps,
              const Form& identity, const Int& L);

// Parses a record into a reduced form of discriminant D (D < 0, D ≡ 1 mod 4); false with *error
// when the bytes do not hold one.
bool formFromRecord(const uint8_t* record, const Int& D, Form* f, std::string* error);

// Writes the reduced form f as a record; false when it does not fit.
bool formToRecord(const Form& f, uint8_t* record);

// Squares f `count` times; after squaring i (1 <= i <= count) with (offset + i) a multiple of
// interval, appends the record of the reduced form, then the record after the last squaring.
bool squareChain(const Int& L, Form f, uint64_t offset, uint64_t count, uint64_t interval,
                 std::vector<uint8_t>* out, std::string* error);

}  // namespace vigil::cg
