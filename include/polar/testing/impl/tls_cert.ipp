//
// polar-cpp testing: self-signed certificates for the emulator.
//
#ifndef POLAR_TESTING_IMPL_TLS_CERT_IPP
#define POLAR_TESTING_IMPL_TLS_CERT_IPP

#include <polar/testing/emulator.hpp>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace polar::testing {
namespace detail {

struct openssl_deleter {
    void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
    void operator()(X509* p) const noexcept { X509_free(p); }
    void operator()(X509_EXTENSION* p) const noexcept { X509_EXTENSION_free(p); }
    void operator()(BIO* p) const noexcept { BIO_free(p); }
    void operator()(BIGNUM* p) const noexcept { BN_free(p); }
};
template <class T>
using openssl_ptr = std::unique_ptr<T, openssl_deleter>;

[[noreturn]] inline void throw_openssl(const char* what) {
    unsigned long e = ERR_get_error();
    std::string msg = "polar emulator: certificate generation failed: ";
    msg += what;
    if (e != 0) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        msg += ": ";
        msg += buf;
    }
    ERR_clear_error();
    throw std::runtime_error(msg);
}

inline std::string bio_to_string(BIO* bio) {
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    return std::string(data, n > 0 ? static_cast<std::size_t>(n) : 0);
}

inline void add_extension(X509* cert, int nid, const char* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    openssl_ptr<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
    if (!ext || X509_add_ext(cert, ext.get(), -1) != 1)
        throw_openssl("X509 extension");
}

} // namespace detail

POLAR_DECL certificate_pair make_self_signed_certificate(certificate_key_type type) {
    return make_self_signed_certificate(type, "IP:127.0.0.1,IP:::1,DNS:localhost", std::chrono::hours(-1),
                                        std::chrono::hours(24 * 365));
}

POLAR_DECL certificate_pair make_self_signed_certificate(certificate_key_type type, std::string_view subject_alt_names,
                                                         std::chrono::seconds not_before,
                                                         std::chrono::seconds not_after) {
    using detail::openssl_ptr;
    using detail::throw_openssl;

    openssl_ptr<EVP_PKEY> key(type == certificate_key_type::rsa_2048 ? EVP_RSA_gen(2048)
                                                                      : EVP_EC_gen("P-256"));
    if (!key)
        throw_openssl("key generation");

    openssl_ptr<X509> cert(X509_new());
    if (!cert || X509_set_version(cert.get(), 2) != 1)
        throw_openssl("X509_new");

    // A random positive 63-bit serial: clients cache certificates by issuer
    // and serial, and a fixed serial across runs upsets some of them.
    openssl_ptr<BIGNUM> serial(BN_new());
    if (!serial || BN_rand(serial.get(), 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
        !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())))
        throw_openssl("serial number");

    if (!X509_gmtime_adj(X509_getm_notBefore(cert.get()), static_cast<long>(not_before.count())) ||
        !X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(not_after.count())))
        throw_openssl("validity");
    if (X509_set_pubkey(cert.get(), key.get()) != 1)
        throw_openssl("X509_set_pubkey");

    X509_NAME* name = X509_get_subject_name(cert.get());
    if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>("polar-cpp emulator"), -1, -1, 0) != 1 ||
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0) != 1 ||
        X509_set_issuer_name(cert.get(), name) != 1)
        throw_openssl("subject name");

    // No keyUsage and no basicConstraints: OpenSSL then treats the certificate
    // as self-issued, so trusting it directly (as a CA file) verifies, and
    // strict verifiers that refuse a CA certificate as a server certificate
    // accept it too.
    detail::add_extension(cert.get(), NID_subject_alt_name, std::string(subject_alt_names).c_str());
    detail::add_extension(cert.get(), NID_ext_key_usage, "serverAuth");
    detail::add_extension(cert.get(), NID_subject_key_identifier, "hash");

    if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0)
        throw_openssl("X509_sign");

    openssl_ptr<BIO> cert_bio(BIO_new(BIO_s_mem()));
    openssl_ptr<BIO> key_bio(BIO_new(BIO_s_mem()));
    if (!cert_bio || !key_bio || PEM_write_bio_X509(cert_bio.get(), cert.get()) != 1 ||
        PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
        throw_openssl("PEM encoding");

    certificate_pair out;
    out.cert_pem = detail::bio_to_string(cert_bio.get());
    out.key_pem = detail::bio_to_string(key_bio.get());
    return out;
}

} // namespace polar::testing

#endif
