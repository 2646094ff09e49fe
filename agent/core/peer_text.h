// Peer text: bytes a peer or a user chose (ids, codes, element names, digits) made safe for a log line, and
// the check that a value may travel in an HTTP header.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ferry {

// At most max_bytes of text, control and non-ASCII bytes as '?', "..." when cut short.
std::string QuotePeerText(std::string_view text, std::size_t max_bytes);

// At most max_bytes of text, cut at a UTF-8 character boundary and then ended with "..."; bytes are kept
// as they are (the log sink escapes them, core/log_escape.h). For messages an endpoint chose, which may run
// to kilobytes over many lines: a log line carries their start, not all of them.
std::string CutPeerText(std::string_view text, std::size_t max_bytes);

// Visible ASCII only (0x21..0x7e): no CR, LF or NUL can split a header, no blank can hide in a key.
bool IsVisibleAscii(std::string_view text);

}  // namespace ferry
