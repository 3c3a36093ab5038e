package workload

// Endpoints (v1) lists the addresses behind a Service: its selector's pods,
// ready ones in addresses and the others in notReadyAddresses. Shoal writes
// them (the shard leader's endpoints controller); users read them.
type Endpoints struct {
	TypeMeta `json:",inline"`
	Metadata ObjectMeta       `json:"metadata"`
	Subsets  []EndpointSubset `json:"subsets,omitempty"`
}

// GetMeta returns the endpoints' metadata.
func (e *Endpoints) GetMeta() *ObjectMeta { return &e.Metadata }

// EndpointSubset is a set of addresses that share a set of ports.
type EndpointSubset struct {
	Addresses         []EndpointAddress `json:"addresses,omitempty"`
	NotReadyAddresses []EndpointAddress `json:"notReadyAddresses,omitempty"`
	Ports             []EndpointPort    `json:"ports,omitempty"`
}

// EndpointAddress is one pod's address.
type EndpointAddress struct {
	IP        string           `json:"ip"`
	NodeName  *string          `json:"nodeName,omitempty"`
	TargetRef *ObjectReference `json:"targetRef,omitempty"`
}

// EndpointPort is a port of the subset's addresses, named as the Service
// port it serves.
type EndpointPort struct {
	Name     string   `json:"name,omitempty"`
	Port     int32    `json:"port"`
	Protocol Protocol `json:"protocol,omitempty"`
}
