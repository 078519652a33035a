/**
 * Size limits of attestation documents. Field limits follow AWS's NSM API (aws-nitro-enclaves-nsm-api:
 * user_data and nonce at most 512 bytes, public_key at most 1024, certificates 1..1024 bytes); the
 * whole-document cap is checked before any parsing so a hostile peer cannot make us parse megabytes.
 */
export const MAX_DOCUMENT_BYTES = 16 * 1024;
export const MAX_PUBLIC_KEY_BYTES = 1024;
export const MAX_USER_DATA_BYTES = 512;
export const MAX_NONCE_BYTES = 512;
export const MAX_CERTIFICATE_BYTES = 1024;
export const MAX_CABUNDLE_LENGTH = 8;
export const MAX_MODULE_ID_LENGTH = 256;
export const PCR_BYTES = 48;
export const MAX_PCR_INDEX = 31;
