// JsonBody: base64 by OpenSSL's EVP_EncodeBlock, into the body's own buffer.
#include "agent/aws/json_body.h"

#include <openssl/evp.h>

namespace ferry::aws {

void AppendBase64(std::string& out, std::string_view data) {
  std::size_t at = out.size();
  out.resize(at + Base64Size(data.size()) + 1);  // EVP_EncodeBlock writes a trailing NUL
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data() + at),
                          reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
  out.resize(at + static_cast<std::size_t>(n));
}

}  // namespace ferry::aws
