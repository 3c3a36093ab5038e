package workload

import (
	"strings"
	"testing"
)

const serviceYAML = `apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: 9000}
`

func TestServiceDecodesWithDefaults(t *testing.T) {
	docs, err := Decode("s.yaml", []byte(serviceYAML))
	if err != nil {
		t.Fatal(err)
	}
	Defaults(docs[0].Object, docs[0].Info, "")
	s := docs[0].Object.(*Service)
	if s.Spec.Type != ServiceTypeClusterIP || s.Spec.SessionAffinity != SessionAffinityNone || *s.Spec.InternalTrafficPolicy != TrafficPolicyCluster ||
		s.Spec.Ports[0].Protocol != ProtocolTCP || s.Spec.Ports[0].TargetPort.String() != "9000" || s.ObjectMeta.Namespace != DefaultNamespace {
		t.Fatalf("defaults: %+v", s.Spec)
	}
	if errs := Validate(s, docs[0].Info); errs != nil {
		t.Fatalf("valid service: %v", errs)
	}

	// targetPort defaults to port; ClientIP affinity gets Kubernetes' timeout.
	docs, err = Decode("s.yaml", []byte(strings.NewReplacer("targetPort: 9000", "nodePort: 30080", "selector:", "type: NodePort\n  sessionAffinity: ClientIP\n  selector:").Replace(serviceYAML)))
	if err != nil {
		t.Fatal(err)
	}
	Defaults(docs[0].Object, docs[0].Info, "")
	s = docs[0].Object.(*Service)
	if s.Spec.Ports[0].TargetPort.String() != "80" || *s.Spec.SessionAffinityConfig.ClientIP.TimeoutSeconds != DefaultClientIPTimeoutSeconds || s.Spec.ExternalTrafficPolicy != TrafficPolicyCluster {
		t.Fatalf("NodePort defaults: %+v", s.Spec)
	}
	if errs := Validate(s, docs[0].Info); errs != nil {
		t.Fatalf("valid NodePort service: %v", errs)
	}
}

// Every Service type Kubernetes has is valid: headless (with or without
// ports), ExternalName, LoadBalancer, UDP and SCTP ports, a port number on
// TCP and UDP at once (DNS), external IPs and single-stack families.
func TestServiceKindsAreValid(t *testing.T) {
	for name, spec := range map[string]string{
		"headless":           "clusterIP: None\n  selector: {app: db}\n  ports: [{port: 5432}]",
		"headless, no ports": "clusterIP: None\n  selector: {app: db}",
		"ExternalName":       "type: ExternalName\n  externalName: db.example.com",
		"LoadBalancer":       "type: LoadBalancer\n  selector: {app: web}\n  ports: [{port: 80, targetPort: 8080}]\n  loadBalancerSourceRanges: [10.0.0.0/8]",
		"LoadBalancer class": "type: LoadBalancer\n  loadBalancerClass: example.com/lb\n  allocateLoadBalancerNodePorts: false\n  selector: {app: web}\n  ports: [{port: 80}]",
		"DNS on TCP and UDP": "selector: {app: dns}\n  ports: [{name: dns, port: 53, protocol: UDP}, {name: dns-tcp, port: 53, protocol: TCP}]",
		"SCTP":               "selector: {app: x}\n  ports: [{port: 9999, protocol: SCTP}]",
		"external IPs":       "selector: {app: web}\n  externalIPs: [192.0.2.10]\n  ipFamilyPolicy: SingleStack\n  ipFamilies: [IPv4]\n  ports: [{port: 80}]",
	} {
		t.Run(name, func(t *testing.T) {
			if err := decodeErrors("s.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  "+spec+"\n"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestServiceValidation(t *testing.T) {
	for _, c := range []struct{ name, from, to, want string }{
		{"no ports", "  ports:\n  - {name: http, port: 80, targetPort: 9000}\n", "", "spec.ports: Required value"},
		{"port out of range", "port: 80,", "port: 70000,", "spec.ports[0].port: Invalid value: 70000"},
		{"target port out of range", "targetPort: 9000", "targetPort: 70000", "spec.ports[0].targetPort: Invalid value: 70000"},
		{"target port name too long", "targetPort: 9000", "targetPort: a-very-long-port-name", "spec.ports[0].targetPort: Invalid value"},
		{"two ports, one unnamed", "- {name: http, port: 80, targetPort: 9000}", "- {name: http, port: 80}\n  - {port: 81}", "spec.ports[1].name: Required value"},
		{"duplicate names", "- {name: http, port: 80, targetPort: 9000}", "- {name: http, port: 80}\n  - {name: http, port: 81}", "spec.ports[1].name: Duplicate value"},
		{"duplicate ports", "- {name: http, port: 80, targetPort: 9000}", "- {name: a, port: 80}\n  - {name: b, port: 80}", "spec.ports[1]: Duplicate value"},
		{"bad protocol", "port: 80,", "port: 80, protocol: QUIC,", "spec.ports[0].protocol: Unsupported value: \"QUIC\""},
		{"bad type", "selector:", "type: Magic\n  selector:", "spec.type: Unsupported value: \"Magic\""},
		{"ExternalName without a name", "selector:", "type: ExternalName\n  selector:", "spec.externalName: Required value"},
		{"ExternalName not a DNS name", "selector:", "type: ExternalName\n  externalName: \"not a name\"\n  selector:", "spec.externalName: Invalid value: \"not a name\""},
		{"headless NodePort", "selector:", "type: NodePort\n  clusterIP: None\n  selector:", "spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for NodePort services"},
		{"dual stack required", "selector:", "ipFamilyPolicy: RequireDualStack\n  selector:", "spec.ipFamilyPolicy: Invalid value: \"RequireDualStack\": this cluster is configured for single-stack (IPv4) services only"},
		{"bad external IP", "selector:", "externalIPs: [10.0.0.300]\n  selector:", "spec.externalIPs[0]: Invalid value: \"10.0.0.300\""},
		{"loadBalancerClass on ClusterIP", "selector:", "loadBalancerClass: example.com/lb\n  selector:", "spec.loadBalancerClass: Forbidden"},
		{"nodePort on ClusterIP", "targetPort: 9000", "nodePort: 30080", "spec.ports[0].nodePort: Forbidden"},
		{"nodePort out of range", "selector:", "type: NodePort\n  selector:", ""},
		{"bad cluster IP", "selector:", "clusterIP: 10.96.0.300\n  selector:", "spec.clusterIP: Invalid value: \"10.96.0.300\""},
		{"bad affinity", "selector:", "sessionAffinity: Sticky\n  selector:", "spec.sessionAffinity: Unsupported value"},
		{"bad traffic policy", "selector:", "internalTrafficPolicy: Nearby\n  selector:", "spec.internalTrafficPolicy: Unsupported value"},
		{"bad selector", "{app: web}", "{app: \"no spaces\"}", "spec.selector[app]: Invalid value"},
	} {
		t.Run(c.name, func(t *testing.T) {
			text := strings.Replace(serviceYAML, c.from, c.to, 1)
			if c.name == "nodePort out of range" {
				text = strings.Replace(text, "targetPort: 9000", "nodePort: 80", 1)
				c.want = "spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767"
			}
			err := decodeErrors("s.yaml", text)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}
