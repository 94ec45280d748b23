package rpc

import (
	"net/url"
	"strings"
	"testing"
)

// sdkParams are the common parameters of the SDK's own signature unit test
// (sdk/auth/rpc_signature_composer_test.go), reference §A4.
func sdkParams() url.Values {
	return url.Values{
		"Action": {""}, "Version": {""}, "Format": {"JSON"}, "Timestamp": {"mock date"},
		"SignatureMethod": {"HMAC-SHA1"}, "SignatureVersion": {"1.0"}, "SignatureType": {""},
		"SignatureNonce": {"MOCK_UUID"}, "AccessKeyId": {"accessKeyId"}, "RegionId": {"regionId"},
	}
}

func withParam(p url.Values, k, v string) url.Values {
	p.Set(k, v)
	return p
}

// mustQuery parses a query the way the server does (+ is a space).
func mustQuery(t testing.TB, q string) url.Values {
	t.Helper()
	v, err := url.ParseQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSignVectors(t *testing.T) {
	const createURL = "AccessKeyId=LTAIconsumer000002&Action=CreateVpcEndpoint&EndpointName=my+ep&Format=JSON&RegionId=cn-hangzhou" +
		"&SecurityGroupId.1=sg-consumer1&ServiceId=epsrv-demo1&Signature=xgBejqCp0MV3i7gU5ysA2Cr2210%3D&SignatureMethod=HMAC-SHA1" +
		"&SignatureNonce=0123456789abcdef0123456789abcdef&SignatureType=&SignatureVersion=1.0&Tag.1.Key=env&Tag.1.Value=dev" +
		"&Timestamp=2024-01-02T03%3A04%3A05Z&Version=2020-04-15&VpcId=vpc-consumer1&Zone.1.VSwitchId=vsw-consumer1-h" +
		"&Zone.1.ZoneId=cn-hangzhou-h&Zone.1.ip=127.10.0.5"
	tests := []struct {
		name   string
		method string
		params url.Values
		secret string
		sts    string // "" = not checked
		want   string
	}{
		{
			name: "sdk unit test", method: "GET", params: sdkParams(), secret: "accessKeySecret",
			sts: "GET&%2F&AccessKeyId%3DaccessKeyId%26Action%3D%26Format%3DJSON%26RegionId%3DregionId" +
				"%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3DMOCK_UUID%26SignatureType%3D" +
				"%26SignatureVersion%3D1.0%26Timestamp%3Dmock%2520date%26Version%3D",
			want: "7loPmFjvDnzOVnQeQNj85S6nFGY=",
		},
		{
			name: "sdk unit test with sts token", method: "GET", secret: "accessKeySecret",
			params: withParam(sdkParams(), "SecurityToken", "accessKeyStsToken"),
			want:   "5Nxdcler+ihqWqv0Hr2On4PsBf4=",
		},
		{
			name: "DescribeRegions", method: "POST", secret: "testsecret",
			params: url.Values{
				"Action": {"DescribeRegions"}, "Version": {"2020-04-15"}, "Format": {"JSON"},
				"AccessKeyId": {"testid"}, "SignatureMethod": {"HMAC-SHA1"}, "SignatureVersion": {"1.0"},
				"SignatureType": {""}, "SignatureNonce": {"0123456789abcdef0123456789abcdef"},
				"Timestamp": {"2024-01-02T03:04:05Z"}, "RegionId": {"cn-hangzhou"},
			},
			want: "wsKSaElwkV0JVXWBKrNzWuml8NA=",
		},
		{
			name: "CreateVpcEndpoint URL", method: "POST", secret: "consumer-secret-2",
			params: mustQuery(t, createURL),
			want:   "xgBejqCp0MV3i7gU5ysA2Cr2210=",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sts := StringToSign(tt.method, tt.params)
			if tt.sts != "" && sts != tt.sts {
				t.Errorf("StringToSign:\n got %s\nwant %s", sts, tt.sts)
			}
			if got := Sign(tt.method, tt.params, tt.secret); got != tt.want {
				t.Errorf("Sign = %s, want %s (string to sign %s)", got, tt.want, sts)
			}
		})
	}
}

// percentEncode is the SDK's RFC 3986 encoding, written the slow way the
// SDK does it, as an oracle for the one-pass double encoding.
func percentEncode(s string) string {
	e := url.QueryEscape(s)
	e = strings.ReplaceAll(e, "+", "%20")
	e = strings.ReplaceAll(e, "*", "%2A")
	e = strings.ReplaceAll(e, "%7E", "~")
	return e
}

// sdkStringToSign is buildRpcStringToSign as the SDK writes it.
func sdkStringToSign(method string, params url.Values) string {
	p := url.Values{}
	for k, vs := range params {
		if k != "Signature" {
			p[k] = vs
		}
	}
	canonical := strings.ReplaceAll(p.Encode(), "+", "%20")
	canonical = strings.ReplaceAll(canonical, "*", "%2A")
	canonical = strings.ReplaceAll(canonical, "%7E", "~")
	return method + "&%2F&" + percentEncode(canonical)
}

func TestStringToSignMatchesSDKConstruction(t *testing.T) {
	p := url.Values{
		"a b": {"x*y~z"}, "Zone.1.ip": {"1.2.3.4"}, "Zone.1.ZoneId": {"z"}, "中文": {"值 /+=&%"},
		"Empty": {""}, "Signature": {"ignored"}, "Multi": {"2", "1"},
	}
	if got, want := StringToSign("POST", p), sdkStringToSign("POST", p); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
