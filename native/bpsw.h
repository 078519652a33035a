// The Baillie–PSW core of HashPrime (vdf/primes/bpsw.ts passesBpswAfterTrialDivision): strong
// Miller–Rabin to base 2, perfect-square rejection, strong Lucas with Selfridge's method A. It
// decides which candidate HashPrime returns, so it must agree with the TypeScript test (and
// chiavdf's is_prime_bpsw) on every input: any correct implementation of these three
// deterministic tests does.
#pragma once

#include <openssl/bn.h>

namespace vigil::primes {

enum class Verdict { kComposite, kProbablePrime, kFailed };

// n odd and above 1 (the callers have trial-divided it). kFailed only when OpenSSL fails.
Verdict bpsw(const BIGNUM* n, BN_CTX* ctx);

}  // namespace vigil::primes
