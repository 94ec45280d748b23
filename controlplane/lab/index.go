package lab

// index maps the ids of a lab to what they name, for validation: a file
// expanded by aliases can hold thousands of resources, and a scan per
// reference would make checking it quadratic. The first declaration of an
// id wins; later ones are reported as duplicates.
type index struct {
	vpcs      map[string]*VPC
	vswitches map[string]vswitchRef
	sgs       map[string]*VPC // security group id → its VPC
	lbs       map[string]*LoadBalancer
	services  map[string]bool
}

type vswitchRef struct {
	vsw *VSwitch
	vpc *VPC
}

func newIndex(l *Lab) *index {
	ix := &index{
		vpcs:      make(map[string]*VPC),
		vswitches: make(map[string]vswitchRef),
		sgs:       make(map[string]*VPC),
		lbs:       make(map[string]*LoadBalancer),
		services:  make(map[string]bool),
	}
	for i := range l.VPCs {
		v := &l.VPCs[i]
		setOnce(ix.vpcs, v.ID, v)
		for j := range v.VSwitches {
			setOnce(ix.vswitches, v.VSwitches[j].ID, vswitchRef{&v.VSwitches[j], v})
		}
		for j := range v.SecurityGroups {
			setOnce(ix.sgs, v.SecurityGroups[j].ID, v)
		}
	}
	for i := range l.LoadBalancers {
		setOnce(ix.lbs, l.LoadBalancers[i].ID, &l.LoadBalancers[i])
	}
	for _, s := range l.Services {
		ix.services[s.ID] = true
	}
	return ix
}

func setOnce[V any](m map[string]V, k string, v V) {
	if _, ok := m[k]; !ok {
		m[k] = v
	}
}
