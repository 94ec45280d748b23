package controlplane

import (
	"strconv"
	"strings"
	"time"
)

// The views below are what the API answers, field for field in the JSON
// names of the official SDK (services/privatelink v1.63.107): the model
// speaks the API's terms, so the wire layer stays a thin decoder.

// timeFormat is the API's time layout.
const timeFormat = "2006-01-02T15:04:05Z"

func apiTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeFormat)
}

// EndpointInfo is an endpoint as CreateVpcEndpoint, GetVpcEndpointAttribute
// and ListVpcEndpoints show it.
type EndpointInfo struct {
	EndpointId                string `json:"EndpointId"`
	EndpointName              string `json:"EndpointName"`
	EndpointDescription       string `json:"EndpointDescription"`
	EndpointDomain            string `json:"EndpointDomain"`
	EndpointStatus            string `json:"EndpointStatus"`
	EndpointBusinessStatus    string `json:"EndpointBusinessStatus"`
	EndpointType              string `json:"EndpointType"`
	ConnectionStatus          string `json:"ConnectionStatus"`
	Bandwidth                 int    `json:"Bandwidth"`
	ServiceId                 string `json:"ServiceId"`
	ServiceName               string `json:"ServiceName"`
	VpcId                     string `json:"VpcId"`
	RegionId                  string `json:"RegionId"`
	CreateTime                string `json:"CreateTime"`
	ResourceOwner             bool   `json:"ResourceOwner"`
	Payer                     string `json:"Payer"`
	ZonePrivateIpAddressCount int    `json:"ZonePrivateIpAddressCount"`
	ZoneAffinityEnabled       bool   `json:"ZoneAffinityEnabled"`
	PrivateServiceName        string `json:"PrivateServiceName"`
	ResourceGroupId           string `json:"ResourceGroupId"`
	Tags                      []Tag  `json:"Tags"`
}

func (cp *ControlPlane) endpointInfo(e *Endpoint) EndpointInfo {
	payer, affinity, private := "Endpoint", false, ""
	if s := cp.services[e.ServiceID]; s != nil {
		payer, affinity = s.Payer, s.ZoneAffinity
		if s.PrivateDomainEnabled {
			private = s.PrivateDomain
		}
	}
	tags := e.Tags
	if tags == nil {
		tags = []Tag{}
	}
	return EndpointInfo{
		EndpointId:                e.ID,
		EndpointName:              e.Name,
		EndpointDescription:       e.Description,
		EndpointDomain:            cp.endpointDomain(e),
		EndpointStatus:            e.Phase.Status,
		EndpointBusinessStatus:    "Normal",
		EndpointType:              e.Type,
		ConnectionStatus:          e.Conn.Phase.Status,
		Bandwidth:                 e.Conn.Bandwidth,
		ServiceId:                 e.ServiceID,
		ServiceName:               cp.serviceName(e.ServiceID),
		VpcId:                     e.VpcID,
		RegionId:                  cp.w.region,
		CreateTime:                apiTime(e.CreateTime),
		ResourceOwner:             e.Owner == e.ServiceOwner,
		Payer:                     payer,
		ZonePrivateIpAddressCount: 1,
		ZoneAffinityEnabled:       affinity,
		PrivateServiceName:        private,
		ResourceGroupId:           e.ResourceGroupID,
		Tags:                      tags,
	}
}

// ZoneInfo is an endpoint zone (ListVpcEndpointZones, and the zones of
// ListVpcEndpointConnections).
type ZoneInfo struct {
	ZoneId             string `json:"ZoneId"`
	ZoneStatus         string `json:"ZoneStatus"`
	ZoneDomain         string `json:"ZoneDomain"`
	VSwitchId          string `json:"VSwitchId"`
	EniId              string `json:"EniId"`
	EniIp              string `json:"EniIp"`
	RegionId           string `json:"RegionId"`
	ResourceId         string `json:"ResourceId"`
	ReplacedEniId      string `json:"ReplacedEniId"`
	ReplacedResourceId string `json:"ReplacedResourceId"`
	ServiceStatus      string `json:"ServiceStatus"`
	StatusInfo         string `json:"StatusInfo"`
	LocalName          string `json:"LocalName"`
}

// zoneServiceInactive is a zone's ServiceStatus while no resource serves
// it: the API's "unavailable" service status.
const zoneServiceInactive = "Inactive"

func (cp *ControlPlane) zoneInfo(e *Endpoint, z *Zone) ZoneInfo {
	zi := ZoneInfo{
		ZoneId:     z.ZoneID,
		ZoneStatus: z.Phase.Status,
		ZoneDomain: cp.zoneDomain(e, z.ZoneID),
		VSwitchId:  z.VSwitchID,
		EniId:      z.ENI.ID,
		RegionId:   cp.w.region,
		ResourceId: z.ResourceID,
		LocalName:  zoneLocalName(z.ZoneID),
	}
	if z.ENI.IP.IsValid() {
		zi.EniIp = z.ENI.IP.String()
	}
	if z.Replaced != nil {
		zi.ReplacedEniId = z.Replaced.ENI.ID
		zi.ReplacedResourceId = z.Replaced.ResourceID
	}
	if s := cp.services[e.ServiceID]; s != nil {
		zi.ServiceStatus = s.Phase.Status
		if z.ResourceID == "" {
			// No resource serves the zone (waiting for its connection, or
			// disconnected): the guide's zone table shows 服务状态 异常.
			zi.ServiceStatus = zoneServiceInactive
		}
	}
	var info []string
	if z.Failed {
		info = append(info, "FaultInjected")
	}
	if st := cp.cfg.ENIStatus; st != nil && z.ENI.IP.IsValid() {
		// The zone may read Connected while its ENI is not served: say so
		// where users look (the console and `eplink status` show it).
		if s := st(z.ENI.IP); s != "" {
			info = append(info, s)
		}
	}
	zi.StatusInfo = strings.Join(info, "; ")
	return zi
}

// ServiceInfo is an endpoint service as its create, get and list actions
// show it.
type ServiceInfo struct {
	ServiceId                   string   `json:"ServiceId"`
	ServiceName                 string   `json:"ServiceName"`
	ServiceDomain               string   `json:"ServiceDomain"`
	ServiceDescription          string   `json:"ServiceDescription"`
	ServiceStatus               string   `json:"ServiceStatus"`
	ServiceBusinessStatus       string   `json:"ServiceBusinessStatus"`
	ServiceType                 string   `json:"ServiceType"`
	ServiceResourceType         string   `json:"ServiceResourceType"`
	AutoAcceptEnabled           bool     `json:"AutoAcceptEnabled"`
	ZoneAffinityEnabled         bool     `json:"ZoneAffinityEnabled"`
	ConnectBandwidth            int      `json:"ConnectBandwidth"`
	MinBandwidth                int      `json:"MinBandwidth"`
	MaxBandwidth                int      `json:"MaxBandwidth"`
	Payer                       string   `json:"Payer"`
	RegionId                    string   `json:"RegionId"`
	CreateTime                  string   `json:"CreateTime"`
	ResourceGroupId             string   `json:"ResourceGroupId"`
	ServiceSupportIPv6          bool     `json:"ServiceSupportIPv6"`
	PrivateServiceName          string   `json:"PrivateServiceName"`
	PrivateServiceDomainEnabled bool     `json:"PrivateServiceDomainEnabled"`
	PrivateServiceDomain        string   `json:"PrivateServiceDomain"`
	Zones                       []string `json:"Zones"`
	Tags                        []Tag    `json:"Tags"`
}

func (cp *ControlPlane) serviceInfo(s *Service) ServiceInfo {
	zones := s.zones()
	if zones == nil {
		zones = []string{}
	}
	tags := s.Tags
	if tags == nil {
		tags = []Tag{}
	}
	si := ServiceInfo{
		ServiceId:                   s.ID,
		ServiceName:                 cp.serviceName(s.ID),
		ServiceDomain:               cp.serviceDomain(s.ID),
		ServiceDescription:          s.Description,
		ServiceStatus:               s.Phase.Status,
		ServiceBusinessStatus:       "Normal",
		ServiceType:                 "Interface",
		ServiceResourceType:         "slb",
		AutoAcceptEnabled:           s.AutoAccept,
		ZoneAffinityEnabled:         s.ZoneAffinity,
		ConnectBandwidth:            s.ConnectBandwidth,
		MinBandwidth:                cp.w.bw.Min,
		MaxBandwidth:                cp.w.bw.Max,
		Payer:                       s.Payer,
		RegionId:                    cp.w.region,
		CreateTime:                  apiTime(s.CreateTime),
		ResourceGroupId:             s.ResourceGroupID,
		ServiceSupportIPv6:          s.SupportIPv6,
		PrivateServiceDomainEnabled: s.PrivateDomainEnabled,
		PrivateServiceDomain:        s.PrivateDomain,
		Zones:                       zones,
		Tags:                        tags,
	}
	if s.PrivateDomainEnabled {
		si.PrivateServiceName = s.PrivateDomain
	}
	return si
}

// ResourceInfo is a service resource (ListVpcEndpointServiceResources).
type ResourceInfo struct {
	ResourceId                     string `json:"ResourceId"`
	ResourceType                   string `json:"ResourceType"`
	ZoneId                         string `json:"ZoneId"`
	RegionId                       string `json:"RegionId"`
	VpcId                          string `json:"VpcId"`
	VSwitchId                      string `json:"VSwitchId"`
	Ip                             string `json:"Ip"`
	AutoAllocatedEnabled           bool   `json:"AutoAllocatedEnabled"`
	RelatedEndpointCount           int    `json:"RelatedEndpointCount"`
	RelatedDeprecatedEndpointCount int    `json:"RelatedDeprecatedEndpointCount"`
	ResourceSupportIPv6            bool   `json:"ResourceSupportIPv6"`
	StatusInfo                     string `json:"StatusInfo"`
}

// ConnectionInfo is an endpoint connection (ListVpcEndpointConnections).
type ConnectionInfo struct {
	EndpointId       string     `json:"EndpointId"`
	EndpointOwnerId  int64      `json:"EndpointOwnerId"`
	EndpointVpcId    string     `json:"EndpointVpcId"`
	ServiceId        string     `json:"ServiceId"`
	ConnectionStatus string     `json:"ConnectionStatus"`
	Bandwidth        int        `json:"Bandwidth"`
	ModifiedTime     string     `json:"ModifiedTime"`
	ResourceOwner    bool       `json:"ResourceOwner"`
	ResourceGroupId  string     `json:"ResourceGroupId"`
	Zones            []ZoneInfo `json:"Zones"`
}

func (cp *ControlPlane) connectionInfo(e *Endpoint) ConnectionInfo {
	owner, _ := strconv.ParseInt(e.Owner, 10, 64)
	ci := ConnectionInfo{
		EndpointId:       e.ID,
		EndpointOwnerId:  owner,
		EndpointVpcId:    e.VpcID,
		ServiceId:        e.ServiceID,
		ConnectionStatus: e.Conn.Phase.Status,
		Bandwidth:        e.Conn.Bandwidth,
		ModifiedTime:     apiTime(e.Conn.Modified),
		ResourceOwner:    e.Owner == e.ServiceOwner,
		ResourceGroupId:  e.ResourceGroupID,
		Zones:            []ZoneInfo{},
	}
	for _, z := range e.Zones {
		ci.Zones = append(ci.Zones, cp.zoneInfo(e, z))
	}
	return ci
}

// Page is what every List answer carries besides its items.
type Page struct {
	// MaxResults is 1–50; 0 means 50.
	MaxResults int
	// NextToken continues a previous List ("" = first page).
	NextToken string
}

// paginate walks ids (sorted) from the page token, keeping those match
// accepts (nil = all), and returns one page of views, the next token and
// the total number of matches.
func paginate[T any](ids idList, p Page, match func(id string) bool, view func(id string) T) (items []T, next string, total int, max int, err error) {
	max, err = pageSize(p.MaxResults)
	if err != nil {
		return nil, "", 0, 0, err
	}
	after, err := decodePageToken(p.NextToken)
	if err != nil {
		return nil, "", 0, 0, err
	}
	items = []T{}
	if match == nil {
		total = len(ids)
		rest := ids.after(after)
		n := min(max, len(rest))
		for _, id := range rest[:n] {
			items = append(items, view(id))
		}
		if n < len(rest) {
			next = encodePageToken(rest[n-1])
		}
		return items, next, total, max, nil
	}
	last := ""
	for _, id := range ids {
		if !match(id) {
			continue
		}
		total++
		if after != "" && id <= after {
			continue
		}
		if len(items) < max {
			items = append(items, view(id))
			last = id
		} else if next == "" {
			next = encodePageToken(last)
		}
	}
	return items, next, total, max, nil
}

// zoneCities name the regions' cities as the console does.
var zoneCities = map[string]string{
	"cn-hangzhou": "杭州", "cn-shanghai": "上海", "cn-beijing": "北京", "cn-shenzhen": "深圳",
	"cn-huhehaote": "呼和浩特", "ap-southeast-1": "新加坡",
}

// zoneLocalName is the zone's display name, e.g. "杭州 可用区H" for
// cn-hangzhou-h ("<region> Zone H" for regions without a known city).
func zoneLocalName(zone string) string {
	i := len(zone) - 1
	for i > 0 && zone[i] != '-' {
		i--
	}
	if i <= 0 || i == len(zone)-1 {
		return zone
	}
	if city, ok := zoneCities[zone[:i]]; ok {
		return city + " 可用区" + upper(zone[i+1:])
	}
	return zone[:i] + " Zone " + upper(zone[i+1:])
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}
