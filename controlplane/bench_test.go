package controlplane

import (
	"testing"
	"time"

	"eplink/controlplane/snapshot"
)

// fill stores n zone-less endpoints of the consumer in one commit.
func fill(b *testing.B, cp *ControlPlane, n int) string {
	s := must(cp.CreateVpcEndpointService(as(provider), CreateServiceInput{Resources: []ResourceRef{{ID: "lb-clb1"}}, AutoAccept: true}))
	if err := cp.AddUserToVpcEndpointService(as(provider), s.ServiceId, consumer, ""); err != nil {
		b.Fatal(err)
	}
	err := cp.labStep(consumer, func(t *txn) error {
		for i := 0; i < n; i++ {
			if _, err := cp.createEndpoint(t, CreateEndpointInput{VpcID: "vpc-consumer1", ServiceID: s.ServiceId,
				SecurityGroupIDs: []string{"sg-consumer1"}, Name: str("bench-ep")}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return s.ServiceId
}

// BenchmarkList10k: one ListVpcEndpoints page (50) among 10,000 endpoints,
// from the middle, unfiltered and filtered by VPC; and a restart.
func BenchmarkList10k(b *testing.B) {
	dir := b.TempDir()
	pub := &snapshot.Publisher{}
	cp, err := Open(Config{DataDir: dir, Lab: testLab(), Publisher: pub})
	if err != nil {
		b.Fatal(err)
	}
	fill(b, cp, 10000)
	first := must(cp.ListVpcEndpoints(as(consumer), ListEndpointsInput{Page: Page{MaxResults: 50}}))
	mid := encodePageToken((*cp.epByOwner[consumer])[5000])
	b.Run("page", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			r := must(cp.ListVpcEndpoints(as(consumer), ListEndpointsInput{Page: Page{NextToken: mid}}))
			if len(r.Endpoints) != 50 || r.TotalCount != 10000 {
				b.Fatalf("%d items, total %d", len(r.Endpoints), r.TotalCount)
			}
		}
	})
	b.Run("filtered", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			must(cp.ListVpcEndpoints(as(consumer), ListEndpointsInput{Page: Page{NextToken: first.NextToken}, VpcID: "vpc-consumer1"}))
		}
	})
	b.Run("mutate", func(b *testing.B) {
		id := (*cp.epByOwner[consumer])[0]
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := cp.UpdateVpcEndpointAttribute(as(consumer), id, nil, str("desc")); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("snapshot", func(b *testing.B) {
		// A change the data path sees: a full build and publish each time.
		svc := cp.endpoints[(*cp.epByOwner[consumer])[0]].ServiceID
		bw := 100
		for i := 0; i < b.N; i++ {
			bw = 100 + (bw+1)%900
			if err := cp.UpdateVpcEndpointServiceAttribute(as(provider), UpdateServiceInput{ServiceID: svc, ZoneAffinity: ptr(i%2 == 0)}); err != nil {
				b.Fatal(err)
			}
		}
	})
	cp.Close()
	b.Run("open", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			start := time.Now()
			cp, err := Open(Config{DataDir: dir, Lab: testLab(), Publisher: &snapshot.Publisher{}})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(time.Since(start).Milliseconds()), "ms/open")
			cp.Close()
		}
	})
}
