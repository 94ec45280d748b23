package controlplane

import (
	"encoding/base64"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// validName checks a name (EndpointName): 2–128 characters, starting with a
// letter or a Chinese character, then letters, digits, '-', '_' (guide).
func validName(param, s string) error {
	if !utf8.ValidString(s) {
		return invalid(param, "must be valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n < 2 || n > 128 {
		return invalid(param, "must be 2 to 128 characters long")
	}
	for i, r := range s {
		letter := isASCIILetter(r) || unicode.Is(unicode.Han, r)
		if i == 0 {
			if !letter {
				return invalid(param, "must start with a letter or a Chinese character")
			}
			continue
		}
		if !letter && !(r >= '0' && r <= '9') && r != '-' && r != '_' {
			return invalidf(param, "must contain only letters, digits, '-' and '_', not %q", r)
		}
	}
	return nil
}

func isASCIILetter(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }

// validDescription checks a description: 2–256 characters, not starting with
// http:// or https://.
func validDescription(param, s string) error {
	if !utf8.ValidString(s) {
		return invalid(param, "must be valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n < 2 || n > 256 {
		return invalid(param, "must be 2 to 256 characters long")
	}
	l := strings.ToLower(s)
	if strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") {
		return invalid(param, "must not start with http:// or https://")
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return invalid(param, "must not contain control characters")
		}
	}
	return nil
}

// Tag is a resource tag.
type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// maxTags is the number of tags one resource can carry (docs).
const maxTags = 20

// validTags checks tags as given in one request (Tag.N.Key/Value): at most
// 20, keys 1–64 and values 0–128 characters, neither starting with "aliyun"
// or "acs:" nor containing http:// or https://, keys unique.
func validTags(tags []Tag) error {
	if len(tags) > maxTags {
		return invalidf("Tag", "at most %d tags are allowed, got %d", maxTags, len(tags))
	}
	seen := make(map[string]bool, len(tags))
	for i, t := range tags {
		kp := "Tag." + strconv.Itoa(i+1) + ".Key"
		vp := "Tag." + strconv.Itoa(i+1) + ".Value"
		if t.Key == "" {
			return missing(kp)
		}
		if err := validTagText(kp, t.Key, 64, true); err != nil {
			return err
		}
		if err := validTagText(vp, t.Value, 128, false); err != nil {
			return err
		}
		if seen[t.Key] {
			return invalidf(kp, "duplicate tag key %q", t.Key)
		}
		seen[t.Key] = true
	}
	return nil
}

// validTagFilter checks the Tag.N of a List: at most 20, keys given.
func validTagFilter(tags []Tag) error {
	if len(tags) > maxTags {
		return invalidf("Tag", "at most %d tags are allowed, got %d", maxTags, len(tags))
	}
	for i, t := range tags {
		if t.Key == "" {
			return missing("Tag." + strconv.Itoa(i+1) + ".Key")
		}
	}
	return nil
}

func validTagText(param, s string, max int, key bool) error {
	if !utf8.ValidString(s) {
		return invalid(param, "must be valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n > max {
		return invalidf(param, "must be at most %d characters", max)
	}
	l := strings.ToLower(s)
	if strings.HasPrefix(l, "aliyun") || strings.HasPrefix(l, "acs:") {
		return invalid(param, "must not start with aliyun or acs:")
	}
	if strings.Contains(l, "http://") || strings.Contains(l, "https://") {
		return invalid(param, "must not contain http:// or https://")
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return invalid(param, "must not contain control characters")
		}
	}
	if key && strings.TrimSpace(s) == "" {
		return invalid(param, "must not be blank")
	}
	return nil
}

// validID checks that s looks like an id with the given prefix
// ("ep-", "epsrv-", …): the prefix then 1–64 lower-case letters, digits,
// '-' or '_'. Lab objects use readable ids (vpc-consumer1), API objects
// the cloud's form; both pass.
func validID(param, prefix, s string) error {
	if !strings.HasPrefix(s, prefix) || len(s) == len(prefix) || len(s) > len(prefix)+64 {
		return invalidf(param, "must look like %s…", prefix)
	}
	for _, r := range s[len(prefix):] {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return invalidf(param, "must look like %s… (lower-case letters and digits)", prefix)
		}
	}
	return nil
}

// validUID checks a 16-digit account UID.
func validUID(param, s string) error {
	if len(s) != 16 {
		return invalid(param, "must be a 16-digit account ID")
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return invalid(param, "must be a 16-digit account ID")
		}
	}
	return nil
}

// validClientToken checks a ClientToken: at most 64 printable ASCII chars.
func validClientToken(s string) error {
	if len(s) > 64 {
		return invalid("ClientToken", "must be at most 64 characters")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return invalid("ClientToken", "must be printable ASCII")
		}
	}
	return nil
}

// Page tokens are opaque to clients: the id the next page starts after,
// base64url-encoded behind a version tag.
const pageTokenPrefix = "p1."

func encodePageToken(lastID string) string {
	return pageTokenPrefix + base64.RawURLEncoding.EncodeToString([]byte(lastID))
}

func decodePageToken(tok string) (string, error) {
	if tok == "" {
		return "", nil
	}
	rest, ok := strings.CutPrefix(tok, pageTokenPrefix)
	if !ok {
		return "", invalid("NextToken", "not a token this API issued")
	}
	b, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil || len(b) == 0 || !utf8.Valid(b) {
		return "", invalid("NextToken", "not a token this API issued")
	}
	return string(b), nil
}

// pageSize validates MaxResults: 1–50, 0 (absent) means 50.
func pageSize(n int) (int, error) {
	if n == 0 {
		return 50, nil
	}
	if n < 1 || n > 50 {
		return 0, invalid("MaxResults", "must be between 1 and 50")
	}
	return n, nil
}
