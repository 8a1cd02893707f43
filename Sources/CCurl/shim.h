// The system libcurl (Debian: libcurl4-openssl-dev), seen by Swift through CurlHTTP only.
//
// curl_easy_setopt, curl_easy_getinfo and curl_multi_setopt are variadic and do not import
// into Swift; these typed wrappers give each argument kind its own function.
#ifndef WHAGO_CCURL_SHIM_H
#define WHAGO_CCURL_SHIM_H

#include <curl/curl.h>

/// The callback types libcurl calls back with (write, header and read callbacks).
typedef size_t (*whago_curl_data_callback)(char *buffer, size_t size, size_t count, void *userdata);
/// The CURLOPT_XFERINFOFUNCTION callback type.
typedef int (*whago_curl_progress_callback)(void *userdata, curl_off_t dltotal, curl_off_t dlnow,
                                            curl_off_t ultotal, curl_off_t ulnow);

static inline CURLcode whago_curl_easy_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode whago_curl_easy_setopt_off(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

/// libcurl copies string options (since 7.17.0), so `value` may be freed after the call.
static inline CURLcode whago_curl_easy_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode whago_curl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode whago_curl_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode whago_curl_easy_setopt_data_callback(CURL *handle, CURLoption option,
                                                            whago_curl_data_callback value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode whago_curl_easy_setopt_progress_callback(CURL *handle, CURLoption option,
                                                                whago_curl_progress_callback value) {
    return curl_easy_setopt(handle, option, value);
}

/// The CURLOPT_OPENSOCKETFUNCTION callback type: sees the address libcurl is about to connect to.
typedef curl_socket_t (*whago_curl_opensocket_callback)(void *clientp, curlsocktype purpose, struct curl_sockaddr *address);

static inline CURLcode whago_curl_easy_setopt_opensocket_callback(CURL *handle, CURLoption option,
                                                                  whago_curl_opensocket_callback value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode whago_curl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode whago_curl_easy_getinfo_off(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode whago_curl_easy_getinfo_double(CURL *handle, CURLINFO info, double *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode whago_curl_easy_getinfo_string(CURL *handle, CURLINFO info, char **value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode whago_curl_easy_getinfo_pointer(CURL *handle, CURLINFO info, void **value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLMcode whago_curl_multi_setopt_long(CURLM *multi, CURLMoption option, long value) {
    return curl_multi_setopt(multi, option, value);
}

/// The easy handle and result carried by a CURLMSG_DONE message (the union does not import well).
static inline CURL *whago_curl_msg_easy_handle(const CURLMsg *message) { return message->easy_handle; }
static inline CURLcode whago_curl_msg_result(const CURLMsg *message) { return message->data.result; }
static inline int whago_curl_msg_is_done(const CURLMsg *message) { return message->msg == CURLMSG_DONE; }

#endif
