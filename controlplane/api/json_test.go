package api

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"testing"

	"eplink/controlplane"
)

// encodingJSON is what rpc.Server writes for a value without AppendJSON.
func encodingJSON(t *testing.T, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// fill sets every field of the struct *p from s and n by reflection, so a
// field added to the model is filled too and its absence from the
// hand-written encoder shows.
func fill(t *testing.T, p any, s string, n int) {
	v := reflect.ValueOf(p).Elem()
	m := (n%4 + 4) % 4 // a slice gets m-1 elements; 0: nil
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString(s + strconv.Itoa(i))
		case reflect.Int:
			f.SetInt(int64(n + i))
		case reflect.Bool:
			f.SetBool((n+i)%2 == 0)
		case reflect.Slice:
			switch f.Type() {
			case reflect.TypeFor[[]controlplane.Tag]():
				if m != 0 { // nil is written as null
					f.Set(reflect.ValueOf([]controlplane.Tag{{Key: s, Value: "v" + s}, {Key: "k", Value: ""}}[:m-1]))
				}
			case reflect.TypeFor[[]controlplane.EndpointInfo]():
				if m != 0 {
					eps := make([]controlplane.EndpointInfo, m-1)
					for j := range eps {
						fill(t, &eps[j], s+"/"+strconv.Itoa(j), n+j)
					}
					f.Set(reflect.ValueOf(eps))
				}
			default:
				t.Fatalf("field %s of %s: no filler for %s", v.Type().Field(i).Name, v.Type(), f.Type())
			}
		default:
			t.Fatalf("field %s of %s: no filler for %s", v.Type().Field(i).Name, v.Type(), f.Type())
		}
	}
}

// FuzzAppendJSON: the hand-written encoders write what encoding/json
// writes, for any field values.
func FuzzAppendJSON(f *testing.F) {
	f.Add("ep-bp1abc", 0)
	f.Add("name with \"quotes\" and \\ and <html> & tabs\t", 1)
	f.Add("中文 \u2028 \x00 \x7f \xff", 2)
	f.Add("", -5)
	f.Fuzz(func(t *testing.T, s string, n int) {
		var ep controlplane.EndpointInfo
		fill(t, &ep, s, n)
		if got, want := (*endpointJSON)(&ep).AppendJSON([]byte("x")), encodingJSON(t, &ep); !bytes.Equal(got[1:], want) || got[0] != 'x' {
			t.Fatalf("EndpointInfo:\n got %s\nwant %s", got[1:], want)
		}
		var l controlplane.ListVpcEndpointsResult
		fill(t, &l, s, n)
		if got, want := (*listEndpointsJSON)(&l).AppendJSON(nil), encodingJSON(t, &l); !bytes.Equal(got, want) {
			t.Fatalf("ListVpcEndpointsResult:\n got %s\nwant %s", got, want)
		}
	})
}

func TestAppendJSONNil(t *testing.T) {
	if got := string((*endpointJSON)(nil).AppendJSON(nil)); got != "null" {
		t.Errorf("nil endpoint: %s", got)
	}
	if got := string((*listEndpointsJSON)(nil).AppendJSON(nil)); got != "null" {
		t.Errorf("nil list: %s", got)
	}
}
