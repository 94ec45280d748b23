package controlplane

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestValidName(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"ab", true},
		{"my-ep_1", true},
		{"终端节点", true},
		{"中a-1", true},
		{strings.Repeat("a", 128), true},
		{"a", false},
		{strings.Repeat("a", 129), false},
		{"1ab", false},
		{"-ab", false},
		{"_ab", false},
		{"a b", false},
		{"a.b", false},
		{"ab\x00", false},
		{"", false},
		{"\xff\xfe", false},
	} {
		if err := validName("EndpointName", tc.in); (err == nil) != tc.ok {
			t.Errorf("validName(%q) = %v, want ok=%v", tc.in, err, tc.ok)
		}
	}
}

// TestValidUTF8: a name or description that is not UTF-8 says so, as tags
// do, instead of blaming its length.
func TestValidUTF8(t *testing.T) {
	for _, err := range []error{validName("EndpointName", "ab\xff\xfe"), validDescription("D", "abc\xffdef")} {
		if err == nil || !strings.Contains(err.Error(), "must be valid UTF-8") {
			t.Errorf("err = %v, want 'must be valid UTF-8'", err)
		}
	}
}

func TestValidDescription(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"ok", true},
		{"中文描述 ok", true},
		{"see http://x", true},
		{strings.Repeat("d", 256), true},
		{"d", false},
		{strings.Repeat("d", 257), false},
		{"http://x", false},
		{"HTTPS://x", false},
		{"a\nb", false},
	} {
		if err := validDescription("D", tc.in); (err == nil) != tc.ok {
			t.Errorf("validDescription(%q) = %v, want ok=%v", tc.in, err, tc.ok)
		}
	}
}

func TestValidTags(t *testing.T) {
	many := make([]Tag, 21)
	for i := range many {
		many[i] = Tag{Key: "k" + strings.Repeat("x", i)}
	}
	for _, tc := range []struct {
		name string
		in   []Tag
		code string
	}{
		{"ok", []Tag{{"env", "dev"}, {"team", ""}}, ""},
		{"20 is fine", many[:20], ""},
		{"21", many, "InvalidParameter"},
		{"empty key", []Tag{{"", "v"}}, "MissingParameter"},
		{"key 65", []Tag{{strings.Repeat("k", 65), ""}}, "InvalidParameter"},
		{"value 129", []Tag{{"k", strings.Repeat("v", 129)}}, "InvalidParameter"},
		{"aliyun prefix", []Tag{{"aliyun-x", ""}}, "InvalidParameter"},
		{"acs prefix value", []Tag{{"k", "acs:x"}}, "InvalidParameter"},
		{"url", []Tag{{"k", "see https://x"}}, "InvalidParameter"},
		{"duplicate", []Tag{{"k", "1"}, {"k", "2"}}, "InvalidParameter"},
	} {
		err := validTags(tc.in)
		if tc.code == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if e, ok := err.(*Error); !ok || e.Code != tc.code {
			t.Errorf("%s: err = %v, want %s", tc.name, err, tc.code)
		}
	}
}

func TestValidIDAndUID(t *testing.T) {
	for _, tc := range []struct {
		prefix, in string
		ok         bool
	}{
		{"ep-", "ep-bp1iabb21a27719ca8a2", true},
		{"ep-", "ep-demo1", true},
		{"ep-", "ep-", false},
		{"ep-", "epsrv-x", false},
		{"ep-", "ep-ABC", false},
		{"rg-", "rg-acfmy", true},
	} {
		if err := validID("X", tc.prefix, tc.in); (err == nil) != tc.ok {
			t.Errorf("validID(%q, %q) = %v", tc.prefix, tc.in, err)
		}
	}
	if validUID("U", "1000000000000002") != nil || validUID("U", "100") == nil || validUID("U", "10000000000000a2") == nil {
		t.Error("validUID")
	}
	if validClientToken(strings.Repeat("t", 64)) != nil || validClientToken(strings.Repeat("t", 65)) == nil || validClientToken("a b") == nil {
		t.Error("validClientToken")
	}
}

func FuzzValidName(f *testing.F) {
	for _, s := range []string{"ab", "中文", "1a", "a-b_c", "", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if validName("N", s) != nil {
			return
		}
		n := utf8.RuneCountInString(s)
		if n < 2 || n > 128 || strings.ContainsAny(s, " .\n/") {
			t.Fatalf("accepted %q", s)
		}
	})
}

func FuzzValidDescription(f *testing.F) {
	for _, s := range []string{"ok", "http://x", "中文描述", "d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if validDescription("D", s) != nil {
			return
		}
		if n := utf8.RuneCountInString(s); n < 2 || n > 256 || strings.HasPrefix(strings.ToLower(s), "http://") {
			t.Fatalf("accepted %q", s)
		}
	})
}

func FuzzValidTags(f *testing.F) {
	f.Add("env", "dev", "team", "a")
	f.Add("aliyun", "", "k", "k")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		tags := []Tag{{k1, v1}, {k2, v2}}
		if validTags(tags) != nil {
			return
		}
		for _, tg := range tags {
			if tg.Key == "" || utf8.RuneCountInString(tg.Key) > 64 || utf8.RuneCountInString(tg.Value) > 128 ||
				strings.HasPrefix(strings.ToLower(tg.Key), "aliyun") {
				t.Fatalf("accepted %+v", tg)
			}
		}
		if k1 == k2 {
			t.Fatal("accepted duplicate keys")
		}
	})
}

func FuzzPageToken(f *testing.F) {
	f.Add("ep-bp1abc")
	f.Add("p1.")
	f.Add("p1.!!")
	f.Fuzz(func(t *testing.T, s string) {
		// Decoding anything never panics; a token we issued decodes back.
		decodePageToken(s)
		if s == "" || !utf8.ValidString(s) {
			return
		}
		got, err := decodePageToken(encodePageToken(s))
		if err != nil || got != s {
			t.Fatalf("round trip %q → %q, %v", s, got, err)
		}
	})
}

func FuzzValidID(f *testing.F) {
	f.Add("ep-", "ep-bp1iabb21a27719ca8a2")
	f.Add("epsrv-", "epsrv-demo1")
	f.Add("rg-", "rg-")
	f.Fuzz(func(t *testing.T, prefix, s string) {
		if validID("X", prefix, s) != nil {
			return
		}
		rest := s[len(prefix):]
		if !strings.HasPrefix(s, prefix) || rest == "" || len(rest) > 64 || strings.ToLower(rest) != rest || strings.ContainsAny(rest, " ./\x00") {
			t.Fatalf("accepted %q with prefix %q", s, prefix)
		}
	})
}
