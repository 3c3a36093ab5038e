package workload

import (
	"reflect"
	"testing"
)

func TestServiceEnvIsKubernetes(t *testing.T) {
	svcs := []*Service{
		{ObjectMeta: ObjectMeta{Name: "web-api"}, Spec: ServiceSpec{ClusterIP: "10.96.0.10", Ports: []ServicePort{
			{Name: "http", Port: 80, Protocol: ProtocolTCP}, {Port: 8443, Protocol: ProtocolTCP}}}},
		{ObjectMeta: ObjectMeta{Name: "db"}, Spec: ServiceSpec{ClusterIP: "10.96.0.11", Ports: []ServicePort{{Port: 5432}}}},
		{ObjectMeta: ObjectMeta{Name: "no-ip"}, Spec: ServiceSpec{Ports: []ServicePort{{Port: 1}}}},
	}
	want := []string{
		"DB_SERVICE_HOST=10.96.0.11", "DB_SERVICE_PORT=5432", "DB_PORT=tcp://10.96.0.11:5432",
		"DB_PORT_5432_TCP=tcp://10.96.0.11:5432", "DB_PORT_5432_TCP_PROTO=tcp", "DB_PORT_5432_TCP_PORT=5432", "DB_PORT_5432_TCP_ADDR=10.96.0.11",
		"WEB_API_SERVICE_HOST=10.96.0.10", "WEB_API_SERVICE_PORT=80", "WEB_API_SERVICE_PORT_HTTP=80", "WEB_API_PORT=tcp://10.96.0.10:80",
		"WEB_API_PORT_80_TCP=tcp://10.96.0.10:80", "WEB_API_PORT_80_TCP_PROTO=tcp", "WEB_API_PORT_80_TCP_PORT=80", "WEB_API_PORT_80_TCP_ADDR=10.96.0.10",
		"WEB_API_PORT_8443_TCP=tcp://10.96.0.10:8443", "WEB_API_PORT_8443_TCP_PROTO=tcp", "WEB_API_PORT_8443_TCP_PORT=8443", "WEB_API_PORT_8443_TCP_ADDR=10.96.0.10",
	}
	if got := ServiceEnv(svcs); !reflect.DeepEqual(got, want) {
		t.Errorf("ServiceEnv =\n%q\nwant\n%q", got, want)
	}
}
