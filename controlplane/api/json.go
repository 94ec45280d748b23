package api

import (
	"bytes"
	"encoding/json"
	"strconv"

	"eplink/controlplane"
)

// Hand-written JSON for the hottest answers (GetVpcEndpointAttribute,
// ListVpcEndpoints): encoding/json's reflection was the largest share of
// their server CPU after HTTP itself. The output is byte for byte what
// encoding/json writes without HTML escaping (json_test.go checks it on
// arbitrary values, and fails if the model grows a field not written
// here).

// endpointJSON is the model's EndpointInfo, self-encoding.
type endpointJSON controlplane.EndpointInfo

func (e *endpointJSON) AppendJSON(b []byte) []byte {
	if e == nil {
		return append(b, "null"...)
	}
	b = appendStringField(b, '{', "EndpointId", e.EndpointId)
	b = appendStringField(b, ',', "EndpointName", e.EndpointName)
	b = appendStringField(b, ',', "EndpointDescription", e.EndpointDescription)
	b = appendStringField(b, ',', "EndpointDomain", e.EndpointDomain)
	b = appendStringField(b, ',', "EndpointStatus", e.EndpointStatus)
	b = appendStringField(b, ',', "EndpointBusinessStatus", e.EndpointBusinessStatus)
	b = appendStringField(b, ',', "EndpointType", e.EndpointType)
	b = appendStringField(b, ',', "ConnectionStatus", e.ConnectionStatus)
	b = appendIntField(b, "Bandwidth", e.Bandwidth)
	b = appendStringField(b, ',', "ServiceId", e.ServiceId)
	b = appendStringField(b, ',', "ServiceName", e.ServiceName)
	b = appendStringField(b, ',', "VpcId", e.VpcId)
	b = appendStringField(b, ',', "RegionId", e.RegionId)
	b = appendStringField(b, ',', "CreateTime", e.CreateTime)
	b = appendBoolField(b, "ResourceOwner", e.ResourceOwner)
	b = appendStringField(b, ',', "Payer", e.Payer)
	b = appendIntField(b, "ZonePrivateIpAddressCount", e.ZonePrivateIpAddressCount)
	b = appendBoolField(b, "ZoneAffinityEnabled", e.ZoneAffinityEnabled)
	b = appendStringField(b, ',', "PrivateServiceName", e.PrivateServiceName)
	b = appendStringField(b, ',', "ResourceGroupId", e.ResourceGroupId)
	b = append(b, `,"Tags":`...)
	b = appendTags(b, e.Tags)
	return append(b, '}')
}

// listEndpointsJSON is the model's ListVpcEndpointsResult, self-encoding.
type listEndpointsJSON controlplane.ListVpcEndpointsResult

func (l *listEndpointsJSON) AppendJSON(b []byte) []byte {
	if l == nil {
		return append(b, "null"...)
	}
	b = append(b, `{"Endpoints":`...)
	if l.Endpoints == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range l.Endpoints {
			if i > 0 {
				b = append(b, ',')
			}
			b = (*endpointJSON)(&l.Endpoints[i]).AppendJSON(b)
		}
		b = append(b, ']')
	}
	b = appendIntField(b, "TotalCount", l.TotalCount)
	b = appendIntField(b, "MaxResults", l.MaxResults)
	b = appendStringField(b, ',', "NextToken", l.NextToken)
	return append(b, '}')
}

func appendTags(b []byte, tags []controlplane.Tag) []byte {
	if tags == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, t := range tags {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendStringField(b, '{', "Key", t.Key)
		b = appendStringField(b, ',', "Value", t.Value)
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendStringField appends sep"name":"value". Names are plain ASCII.
func appendStringField(b []byte, sep byte, name, v string) []byte {
	b = append(b, sep, '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendString(b, v)
}

func appendIntField(b []byte, name string, v int) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return strconv.AppendInt(b, int64(v), 10)
}

func appendBoolField(b []byte, name string, v bool) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return strconv.AppendBool(b, v)
}

// appendString appends s as a JSON string. Printable ASCII without '"' and
// '\' (ids, names, states, times: nearly every value) is written as it is;
// anything else goes through encoding/json, so control characters,
// invalid UTF-8 and U+2028/9 are escaped exactly as it escapes them.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.Encode(s) // a string always encodes
			return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
