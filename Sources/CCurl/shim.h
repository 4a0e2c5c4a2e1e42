#ifndef RELSYNC_CCURL_SHIM_H
#define RELSYNC_CCURL_SHIM_H

#include <curl/curl.h>

// libcurl's curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call.
// These typed wrappers are the only way CurlTransport reaches them. Each one fixes the type
// of the value so that a wrong argument is a Swift compile error rather than undefined behaviour.
// Only the wrappers CurlTransport uses are defined here.

/// CURLOPT_WRITEFUNCTION and CURLOPT_HEADERFUNCTION: `data` holds `size * count` bytes.
/// Return the number of bytes taken; anything else makes libcurl fail the transfer.
typedef size_t (*relsync_curl_data_callback)(char *_Nullable data, size_t size, size_t count,
                                            void *_Nullable userdata);

/// CURLOPT_XFERINFOFUNCTION: return non-zero to abort the transfer (CURLE_ABORTED_BY_CALLBACK).
typedef int (*relsync_curl_xferinfo_callback)(void *_Nullable userdata, curl_off_t download_total,
                                              curl_off_t download_now, curl_off_t upload_total,
                                              curl_off_t upload_now);

static inline CURLcode relsync_curl_setopt_long(CURL *_Nonnull curl, CURLoption option, long value) {
    return curl_easy_setopt(curl, option, value);
}

/// libcurl copies string options (except CURLOPT_POSTFIELDS, which takes `_pointer`), so the
/// string only has to live for the duration of this call.
static inline CURLcode relsync_curl_setopt_string(CURL *_Nonnull curl, CURLoption option,
                                                  const char *_Nullable value) {
    return curl_easy_setopt(curl, option, value);
}

static inline CURLcode relsync_curl_setopt_pointer(CURL *_Nonnull curl, CURLoption option,
                                                   void *_Nullable value) {
    return curl_easy_setopt(curl, option, value);
}

static inline CURLcode relsync_curl_setopt_slist(CURL *_Nonnull curl, CURLoption option,
                                                 struct curl_slist *_Nullable value) {
    return curl_easy_setopt(curl, option, value);
}

static inline CURLcode relsync_curl_setopt_off_t(CURL *_Nonnull curl, CURLoption option,
                                                 curl_off_t value) {
    return curl_easy_setopt(curl, option, value);
}

static inline CURLcode relsync_curl_setopt_write_callback(CURL *_Nonnull curl,
                                                          relsync_curl_data_callback _Nullable callback) {
    return curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, callback);
}

static inline CURLcode relsync_curl_setopt_header_callback(CURL *_Nonnull curl,
                                                           relsync_curl_data_callback _Nullable callback) {
    return curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, callback);
}

static inline CURLcode relsync_curl_setopt_xferinfo_callback(CURL *_Nonnull curl,
                                                             relsync_curl_xferinfo_callback _Nullable callback) {
    return curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, callback);
}

static inline CURLcode relsync_curl_getinfo_long(CURL *_Nonnull curl, CURLINFO info, long *_Nonnull value) {
    return curl_easy_getinfo(curl, info, value);
}

#endif
