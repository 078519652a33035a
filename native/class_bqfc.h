// chiavdf's compressed form encoding (BQFC, 100 bytes for 1024-bit discriminants), the same bytes
// as vdf/class1024/bqfc.ts, which stays the reference: decoding is strict (decompress, require a
// form of D with |b| <= a, reduce, re-encode and byte-compare), so only the one canonical
// encoding of each reduced form is accepted.
#pragma once

#include <cstddef>
#include <cstdint>

#include "class_form.h"

namespace vigil::cg {

constexpr size_t kBqfcBytes = 100;

// Writes the encoding of the reduced form f; false (with *why) when a field does not fit, which
// no reduced form of a discriminant of at most 1024 bits does.
bool encodeBqfc(const Form& f, uint8_t* out, const char** why);

// The reduced form the kBqfcBytes bytes encode for discriminant D (D < 0); false with *why when
// they are not its canonical encoding.
bool decodeBqfc(const uint8_t* bytes, const Int& D, Form* f, const char** why);

}  // namespace vigil::cg
