// Lehmer's Euclid on fixed-capacity integers: the quotients come from the leading 64 bits of
// the operands in machine words, and each batch is applied to the full numbers as one 2×2
// matrix. A batch stops while the approximated remainders are still 2^34 apart from each other
// and from zero, which bounds the error of the approximation (cofactors stay below 2^30) so every
// quotient taken is the true one; the result is checked once more on the full numbers.
#pragma once

#include "class_int.h"

namespace vigil::cg {

struct EuclidState {
  Int r0, r1, s0, s1;
  // Number of quotient steps taken (its parity and whether it is zero are what callers use).
  uint64_t steps = 0;
};

// Euclid on (r0, r1), r0 > r1 >= 0, carrying the cofactor pair (s0, s1) through the same
// recurrence (s0, s1) <- (s1, s0 - q·s1), until r1 = 0 or r1 <= bound (bound == nullptr: to the
// end). The stop may land a few quotients past the first remainder <= bound, never before it.
void euclid(EuclidState& e, const Int* bound);

// The same, stopped exactly at the first remainder r1 <= bound (or r1 = 0), as plain Euclid
// would: the BQFC encoding depends on that cofactor bit for bit.
void euclidTo(EuclidState& e, const Int& bound);

}  // namespace vigil::cg
