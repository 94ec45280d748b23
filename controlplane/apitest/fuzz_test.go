package apitest

import (
	"errors"
	"testing"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/privatelink"
)

// FuzzCreateEndpoint sends arbitrary values for the user-supplied fields
// of CreateVpcEndpoint through the SDK. Whatever they are, the server
// answers (no transport error), never with a 5xx, and what it accepts it
// stores exactly.
func FuzzCreateEndpoint(f *testing.F) {
	f.Add("my-ep", "a description", ZoneH, VSwConsumerH, "", "env", "dev", "")
	f.Add("1bad", "http://x", ZoneI, VSwConsumerH, "127.10.0.5", "aliyun", "v", "true")
	f.Add("中文名", "描述", "cn-hangzhou-z", "vsw-nope", "999.1.1.1", "", "", "maybe")
	f.Add("a", "", ZoneH, VSwConsumerH, "127.10.0.0", "k\x00", "v\xff", "false")
	f.Add("ab%20cd", "x&y=z", ZoneH, VSwConsumerH, "127.10.0.254", "k=v&", "&", "TRUE")
	e := New(f, Options{})
	svc := e.CreateService(f, true, Res{CLB1, ZoneH}, Res{CLB3, ZoneI})
	e.AddUser(f, svc, ConsumerUID)
	f.Fuzz(func(t *testing.T, name, desc, zone, vsw, ip, tagKey, tagValue, dryRun string) {
		r := e.EndpointRequest(svc, EP{Name: name, Zones: []privatelink.CreateVpcEndpointZone{{ZoneId: zone, VSwitchId: vsw, Ip: ip}}})
		r.EndpointDescription = desc
		r.DryRun = requests.Boolean(dryRun) // "" is absent; anything else is sent as is
		if tagKey != "" || tagValue != "" {
			r.Tag = &[]privatelink.CreateVpcEndpointTag{{Key: tagKey, Value: tagValue}}
		}
		resp, err := e.Consumer.CreateVpcEndpoint(r)
		if err != nil {
			var se *sdkerrors.ServerError
			if !errors.As(err, &se) {
				t.Fatalf("no answer from the server: %v", err)
			}
			if se.HttpStatus() >= 500 {
				t.Fatalf("HTTP %d %s for name=%q desc=%q zone=%q vsw=%q ip=%q tag=%q=%q", se.HttpStatus(), se.ErrorCode(), name, desc, zone, vsw, ip, tagKey, tagValue)
			}
			return
		}
		g, err := e.GetEndpoint(e.Consumer, resp.EndpointId)
		if err != nil {
			t.Fatalf("accepted endpoint %s not readable: %v", resp.EndpointId, err)
		}
		if g.EndpointName != name || g.EndpointDescription != desc {
			t.Errorf("stored name/description %q/%q, sent %q/%q", g.EndpointName, g.EndpointDescription, name, desc)
		}
		zs, err := e.Zones(e.Consumer, resp.EndpointId)
		if err != nil || len(zs) != 1 || zs[0].ZoneId != zone || (ip != "" && zs[0].EniIp != ip) {
			t.Errorf("zones of accepted endpoint = %+v, %v; sent zone %q ip %q", zs, err, zone, ip)
		}
	})
}
