// CLibCrypto: OpenSSL's libcrypto (apt: libssl-dev), for SHA-256 at hardware speed (SHA-NI where the
// CPU has it): a model file is hashed as it is assembled, over a gigabyte per pull.
#ifndef SIROCCO_CLIBCRYPTO_SHIM_H
#define SIROCCO_CLIBCRYPTO_SHIM_H

#include <openssl/evp.h>

#endif
