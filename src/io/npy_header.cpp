#include "io/npy_header.hpp"

#include <set>

#include "hyenavk/hyenavk.hpp"

namespace hyenavk::io {

namespace {

class DictParser {
public:
    DictParser(std::string_view text, const std::string& what) : text_(text), what_(what) {}

    NpyHeader parse() {
        NpyHeader header;
        std::set<std::string> seen;
        expect('{');
        while (!accept('}')) {
            const std::string key = string_literal();
            if (!seen.insert(key).second) fail("key '" + key + "' appears twice");
            expect(':');
            if (key == "descr") {
                skip_space();
                if (pos_ < text_.size() && text_[pos_] == '[') fail("structured dtypes are not supported");
                header.descr = string_literal();
            } else if (key == "fortran_order") {
                header.fortran_order = boolean();
            } else if (key == "shape") {
                header.shape = tuple();
            } else {
                fail("unexpected key '" + key + "'");
            }
            if (!accept(',')) {
                expect('}');
                break;
            }
        }
        skip_space();
        if (pos_ != text_.size()) fail("unexpected text after the dict");
        for (const char* key : {"descr", "fortran_order", "shape"})
            if (seen.count(key) == 0) fail(std::string("missing key '") + key + "'");
        return header;
    }

private:
    [[noreturn]] void fail(const std::string& problem) const {
        constexpr size_t kShown = 200;  // enough to recognise the header without echoing a huge corrupt one
        const std::string shown =
            text_.size() <= kShown ? std::string(text_) : std::string(text_.substr(0, kShown)) + "...";
        throw Error(ErrorCode::Format, what_ + ": bad .npy header: " + problem + " (at offset " + std::to_string(pos_) +
                                           " of \"" + shown + "\")");
    }

    // Python allows any whitespace between tokens; NumPy pads with spaces and ends with a newline.
    void skip_space() {
        while (pos_ < text_.size() &&
               (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
            ++pos_;
    }

    bool accept(char c) {
        skip_space();
        if (pos_ < text_.size() && text_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }

    void expect(char c) {
        if (!accept(c)) fail(std::string("expected '") + c + "'");
    }

    std::string string_literal() {
        skip_space();
        if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"')) fail("expected a string");
        const char quote = text_[pos_++];
        const size_t start = pos_;
        while (pos_ < text_.size() && text_[pos_] != quote) {
            if (text_[pos_] == '\\') fail("escapes in strings are not supported");
            ++pos_;
        }
        if (pos_ >= text_.size()) fail("unterminated string");
        return std::string(text_.substr(start, pos_++ - start));
    }

    bool word(std::string_view w) {
        skip_space();
        if (text_.substr(pos_, w.size()) != w) return false;
        pos_ += w.size();
        return true;
    }

    bool boolean() {
        if (word("True")) return true;
        if (word("False")) return false;
        fail("expected True or False");
    }

    uint64_t integer() {
        skip_space();
        const size_t start = pos_;
        uint64_t value = 0;
        while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
            const uint64_t digit = static_cast<uint64_t>(text_[pos_] - '0');
            if (value > (UINT64_MAX - digit) / 10) fail("dimension too large");
            value = value * 10 + digit;
            ++pos_;
        }
        if (pos_ == start) fail("expected a non-negative integer");
        if (pos_ < text_.size() && text_[pos_] == 'L') ++pos_;  // Python 2 long literals, as in old files
        return value;
    }

    std::vector<uint64_t> tuple() {
        std::vector<uint64_t> values;
        expect('(');
        if (accept(')')) return values;
        values.push_back(integer());
        bool trailing_comma = false;
        while (!accept(')')) {
            expect(',');
            trailing_comma = true;
            if (accept(')')) break;
            values.push_back(integer());
            trailing_comma = false;
        }
        // (7) is the integer 7 in Python, not a tuple.
        if (values.size() == 1 && !trailing_comma) fail("a one-element shape needs a trailing comma");
        return values;
    }

    std::string_view text_;
    const std::string& what_;
    size_t pos_ = 0;
};

}  // namespace

NpyHeader parse_npy_header(std::string_view text, const std::string& what) { return DictParser(text, what).parse(); }

std::string format_npy_header(const std::string& descr, const std::vector<uint64_t>& shape) {
    std::string dims;
    for (size_t i = 0; i < shape.size(); ++i) dims += (i ? ", " : "") + std::to_string(shape[i]);
    if (shape.size() == 1) dims += ",";
    return "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
}

}  // namespace hyenavk::io
