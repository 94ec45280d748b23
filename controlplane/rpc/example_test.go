package rpc_test

import (
	"fmt"
	"net/url"

	"eplink/controlplane/rpc"
)

// The SDK's DescribeRegions call of reference §A4, signed by hand.
func ExampleSign() {
	q := url.Values{
		"Action": {"DescribeRegions"}, "Version": {"2020-04-15"}, "Format": {"JSON"},
		"AccessKeyId": {"testid"}, "SignatureMethod": {rpc.SignatureMethod},
		"SignatureVersion": {rpc.SignatureVersion}, "SignatureType": {""},
		"SignatureNonce": {"0123456789abcdef0123456789abcdef"},
		"Timestamp":      {"2024-01-02T03:04:05Z"}, "RegionId": {"cn-hangzhou"},
	}
	q.Set("Signature", rpc.Sign("POST", q, "testsecret"))
	fmt.Println(q.Get("Signature"))
	fmt.Println("POST http://127.0.0.1:8080/?" + q.Encode())
	// Output:
	// wsKSaElwkV0JVXWBKrNzWuml8NA=
	// POST http://127.0.0.1:8080/?AccessKeyId=testid&Action=DescribeRegions&Format=JSON&RegionId=cn-hangzhou&Signature=wsKSaElwkV0JVXWBKrNzWuml8NA%3D&SignatureMethod=HMAC-SHA1&SignatureNonce=0123456789abcdef0123456789abcdef&SignatureType=&SignatureVersion=1.0&Timestamp=2024-01-02T03%3A04%3A05Z&Version=2020-04-15
}
