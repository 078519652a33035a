{
  "targets": [
    {
      "target_name": "vigil_vdf",
      "sources": ["digit_walk.cc", "square_chain.cc", "residues_openssl.cc", "residues_ifma.cc", "bucket_pass.cc", "class_int.cc", "class_xgcd.cc", "class_form.cc", "class_bqfc.cc", "class_prover.cc", "prime_sieve.cc", "bpsw.cc", "hash_prime.cc", "addon.cc"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc": ["-O2", "-std=c++17"],
      "cflags_cc!": ["-fno-exceptions"],
      # BIND_NOW: on a Node without OpenSSL's BN_* exports, require() fails (and the TypeScript
      # path is used) instead of the process aborting at the first call.
      "conditions": [
        ["OS=='linux'", { "ldflags": ["-Wl,-z,now"] }]
      ],
      "xcode_settings": { "GCC_ENABLE_CPP_EXCEPTIONS": "YES" }
    },
    {
      # RFC 8439 ChaCha20-Poly1305 on the OpenSSL inside Node, for the cluster's peer channels
      # and sealed storage (cluster/net/aead.ts); BIND_NOW as above, node:crypto without it.
      "target_name": "vigil_aead",
      "sources": ["aead.cc"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc": ["-O2", "-std=c++17", "-Wall", "-Wextra"],
      "conditions": [
        ["OS=='linux'", { "ldflags": ["-Wl,-z,now"] }]
      ]
    },
    {
      # The Nitro Secure Module device (/dev/nsm), for attestation inside an enclave. Plain
      # POSIX and N-API; on other systems nsm.cc compiles to a stub whose call throws ENOTSUP.
      "target_name": "vigil_nsm",
      "sources": ["nsm.cc"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc": ["-O2", "-std=c++17", "-Wall", "-Wextra"]
    }
  ],
  # The system's libsecp256k1 (Debian: libsecp256k1-dev), for the share proof's point operations;
  # without it the addon is not built and tiny-secp256k1's WebAssembly build does that work.
  "conditions": [
    ["'<!(pkg-config --exists libsecp256k1 && echo 1 || echo 0)'=='1'", {
      "targets": [
        {
          "target_name": "vigil_secp256k1",
          "sources": ["secp256k1.cc"],
          "defines": ["NAPI_VERSION=8"],
          "cflags_cc": ["-O2", "-std=c++17", "-Wall", "-Wextra"],
          "cflags": ["<!@(pkg-config --cflags libsecp256k1)"],
          "libraries": ["<!@(pkg-config --libs libsecp256k1)"]
        }
      ]
    }]
  ]
}
