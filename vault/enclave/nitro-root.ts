/**
 * The trust anchor: AWS Nitro Enclaves Root-G1 (CN=aws.nitro-enclaves, P-384, valid 2019-10-28 to
 * 2049-10-28), published at https://aws-nitro-enclaves.amazonaws.com/AWS_NitroEnclaves_Root-G1.zip.
 * Pinned by the SHA-256 of its DER so the certificate itself never has to live in this repository;
 * a document's cabundle[0] must hash to this value.
 */
export const AWS_NITRO_ROOT_G1_SHA256 =
  '641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b';
