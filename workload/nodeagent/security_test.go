package nodeagent

import (
	"reflect"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/shoalproject/shoal/workload"
	"github.com/shoalproject/shoal/workload/runtime"
	"github.com/shoalproject/shoal/workload/runtime/fake"
)

func ptr[T any](v T) *T { return &v }

func TestContainerSecurity(t *testing.T) {
	for _, tc := range []struct {
		name        string
		pod         *corev1.PodSecurityContext
		ctr         *corev1.SecurityContext
		annotations map[string]string
		want        runtime.Security
	}{
		{name: "none", want: runtime.Security{}},
		{name: "pod ids, fsGroup among the groups",
			pod:  &corev1.PodSecurityContext{RunAsUser: ptr[int64](1000), RunAsGroup: ptr[int64](2000), SupplementalGroups: []int64{3000}, FSGroup: ptr[int64](4000)},
			want: runtime.Security{RunAsUser: ptr[int64](1000), RunAsGroup: ptr[int64](2000), SupplementalGroups: []int64{3000, 4000}}},
		{name: "container overrides the pod",
			pod:  &corev1.PodSecurityContext{RunAsUser: ptr[int64](1000), RunAsGroup: ptr[int64](2000), SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
			ctr:  &corev1.SecurityContext{RunAsUser: ptr[int64](1001), SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}},
			want: runtime.Security{RunAsUser: ptr[int64](1001), RunAsGroup: ptr[int64](2000), Seccomp: runtime.Profile{Type: runtime.ProfileUnconfined}}},
		{name: "pod seccomp localhost",
			pod:  &corev1.PodSecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: ptr("audit.json")}},
			want: runtime.Security{Seccomp: runtime.Profile{Type: runtime.ProfileLocalhost, Localhost: "audit.json"}}},
		{name: "container-only fields",
			ctr: &corev1.SecurityContext{
				Capabilities:             &corev1.Capabilities{Add: []corev1.Capability{"NET_ADMIN"}, Drop: []corev1.Capability{"ALL"}},
				Privileged:               ptr(true),
				ReadOnlyRootFilesystem:   ptr(true),
				AllowPrivilegeEscalation: ptr(false),
				ProcMount:                ptr(corev1.UnmaskedProcMount),
				SELinuxOptions:           &corev1.SELinuxOptions{Level: "s0:c1"},
			},
			want: runtime.Security{AddCapabilities: []string{"NET_ADMIN"}, DropCapabilities: []string{"ALL"}, Privileged: true, ReadOnlyRootFS: true, NoNewPrivileges: true}},
		{name: "allowPrivilegeEscalation true keeps privileges",
			ctr:  &corev1.SecurityContext{AllowPrivilegeEscalation: ptr(true)},
			want: runtime.Security{}},
		{name: "AppArmor: pod field",
			pod:  &corev1.PodSecurityContext{AppArmorProfile: &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeRuntimeDefault}},
			want: runtime.Security{AppArmor: runtime.Profile{Type: runtime.ProfileRuntimeDefault}}},
		{name: "AppArmor: annotation over pod field",
			pod:         &corev1.PodSecurityContext{AppArmorProfile: &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeRuntimeDefault}},
			annotations: map[string]string{appArmorAnnotationPrefix + "c": "localhost/strict", appArmorAnnotationPrefix + "other": "unconfined"},
			want:        runtime.Security{AppArmor: runtime.Profile{Type: runtime.ProfileLocalhost, Localhost: "strict"}}},
		{name: "AppArmor: container field over annotation",
			ctr:         &corev1.SecurityContext{AppArmorProfile: &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeUnconfined}},
			annotations: map[string]string{appArmorAnnotationPrefix + "c": "runtime/default"},
			want:        runtime.Security{AppArmor: runtime.Profile{Type: runtime.ProfileUnconfined}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &workload.Pod{ObjectMeta: workload.ObjectMeta{Annotations: tc.annotations}, Spec: workload.PodSpec{SecurityContext: tc.pod}}
			got := containerSecurity(p, workload.Container{Name: "c", SecurityContext: tc.ctr})
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestVerifyRunAsNonRoot(t *testing.T) {
	const where = `(pod: "ns/p", container: c)`
	for _, tc := range []struct {
		name      string
		pod       *corev1.PodSecurityContext
		ctr       *corev1.SecurityContext
		imageUser string
		want      string // "" for no error
	}{
		{name: "not asked", imageUser: ""},
		{name: "image root by default", pod: &corev1.PodSecurityContext{RunAsNonRoot: ptr(true)},
			want: "container has runAsNonRoot and image will run as root " + where},
		{name: "image uid 0 with a group", ctr: &corev1.SecurityContext{RunAsNonRoot: ptr(true)}, imageUser: "0:10",
			want: "container has runAsNonRoot and image will run as root " + where},
		{name: "image named user", ctr: &corev1.SecurityContext{RunAsNonRoot: ptr(true)}, imageUser: "nobody",
			want: "container has runAsNonRoot and image has non-numeric user (nobody), cannot verify user is non-root " + where},
		{name: "image uid 1000", ctr: &corev1.SecurityContext{RunAsNonRoot: ptr(true)}, imageUser: "1000:1000"},
		{name: "runAsUser 0", pod: &corev1.PodSecurityContext{RunAsNonRoot: ptr(true), RunAsUser: ptr[int64](0)}, imageUser: "1000",
			want: "container's runAsUser breaks non-root policy " + where},
		{name: "runAsUser over a root image", pod: &corev1.PodSecurityContext{RunAsNonRoot: ptr(true)}, ctr: &corev1.SecurityContext{RunAsUser: ptr[int64](1000)}},
		{name: "container turns it off", pod: &corev1.PodSecurityContext{RunAsNonRoot: ptr(true)}, ctr: &corev1.SecurityContext{RunAsNonRoot: ptr(false)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &workload.Pod{ObjectMeta: workload.ObjectMeta{Namespace: "ns", Name: "p"}, Spec: workload.PodSpec{SecurityContext: tc.pod}}
			c := workload.Container{Name: "c", SecurityContext: tc.ctr}
			err := verifyRunAsNonRoot(p, c, containerSecurity(p, c), tc.imageUser)
			if got := errString(err); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestPodSysctls(t *testing.T) {
	for _, tc := range []struct {
		name    string
		sysctls []corev1.Sysctl
		hostNet bool
		want    map[string]string
		wantErr string
	}{
		{name: "none"},
		{name: "safe, slashes turned to dots",
			sysctls: []corev1.Sysctl{{Name: "net.ipv4.ip_local_port_range", Value: "1024 65000"}, {Name: "net/ipv4/tcp_syncookies", Value: "1"}, {Name: "kernel.shm_rmid_forced", Value: "1"}},
			want:    map[string]string{"net.ipv4.ip_local_port_range": "1024 65000", "net.ipv4.tcp_syncookies": "1", "kernel.shm_rmid_forced": "1"}},
		{name: "unsafe", sysctls: []corev1.Sysctl{{Name: "kernel.msgmax", Value: "1"}},
			wantErr: `forbidden sysctl: "kernel.msgmax" not allowlisted`},
		{name: "net with host network", hostNet: true, sysctls: []corev1.Sysctl{{Name: "net.ipv4.tcp_syncookies", Value: "1"}},
			wantErr: `forbidden sysctl: "net.ipv4.tcp_syncookies" not allowed with host net enabled`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &workload.Pod{Spec: workload.PodSpec{HostNetwork: tc.hostNet, SecurityContext: &corev1.PodSecurityContext{Sysctls: tc.sysctls}}}
			got, err := podSysctls(p)
			if errString(err) != tc.wantErr || len(got) != len(tc.want) || len(tc.want) > 0 && !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, %v; want %v, %q", got, err, tc.want, tc.wantErr)
			}
		})
	}
	if got := dottedSysctl("net/ipv4/conf/eno2.100/rp_filter"); got != "net.ipv4.conf.eno2/100.rp_filter" {
		t.Errorf("dottedSysctl with a dot inside a slashed name = %q", got)
	}
}

// A container with runAsNonRoot on a root image is not created: it waits
// with CreateContainerConfigError and a Failed event, as under the kubelet.
func TestRunAsNonRootOnARootImageIsAConfigError(t *testing.T) {
	h := newHarness(t, fake.Config{}, nil)
	h.pods.put(pod("web", func(p *workload.Pod) {
		p.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsNonRoot: ptr(true)}
	}))
	h.agent.Notify()
	const msg = `container has runAsNonRoot and image will run as root (pod: "default/web", container: web)`
	h.await("web to wait with CreateContainerConfigError", func() bool {
		cs := h.status("web").ContainerStatuses
		return len(cs) == 1 && cs[0].State.Waiting != nil && cs[0].State.Waiting.Reason == "CreateContainerConfigError" && cs[0].State.Waiting.Message == msg
	})
	if ev := h.pods.eventsOf("Failed"); len(ev) == 0 || ev[0] != "Failed: Error: "+msg {
		t.Errorf("Failed events %q, want one saying %q", ev, msg)
	}
	if cs, _ := h.rt.ListContainers(t.Context(), runtime.ContainerFilter{}); len(cs) != 0 {
		t.Errorf("containers created: %+v", cs)
	}
}

// The runtime gets the container's effective security; an AppArmor profile
// on a host without AppArmor is a Warning event, and the container runs.
func TestSecurityReachesTheRuntime(t *testing.T) {
	saved := hostAppArmor
	hostAppArmor = func() bool { return false }
	t.Cleanup(func() { hostAppArmor = saved })
	var mu sync.Mutex
	var got runtime.Security
	h := newHarness(t, fake.Config{Behave: func(_ runtime.Sandbox, c runtime.ContainerConfig) fake.Behaviour {
		mu.Lock()
		defer mu.Unlock()
		got = c.Security
		return fake.Behaviour{}
	}}, nil)
	h.pods.put(pod("web", func(p *workload.Pod) {
		p.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsNonRoot: ptr(true), RunAsUser: ptr[int64](1000), FSGroup: ptr[int64](2000),
			AppArmorProfile: &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeRuntimeDefault}}
		p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{ReadOnlyRootFilesystem: ptr(true)}
	}))
	h.agent.Notify()
	h.await("web to run", func() bool { return running(h.status("web")) })
	mu.Lock()
	defer mu.Unlock()
	want := runtime.Security{RunAsUser: ptr[int64](1000), SupplementalGroups: []int64{2000}, ReadOnlyRootFS: true, AppArmor: runtime.Profile{Type: runtime.ProfileRuntimeDefault}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("runtime got %+v, want %+v", got, want)
	}
	if ev := h.pods.eventsOf(reasonAppArmorNotEnabled); len(ev) != 1 || !strings.Contains(ev[0], "container web") {
		t.Errorf("AppArmor events %q, want one for container web", ev)
	}
}

// A pod with an unsafe sysctl fails at once, SysctlForbidden, and nothing
// of it is created.
func TestForbiddenSysctlFailsThePod(t *testing.T) {
	h := newHarness(t, fake.Config{}, nil)
	h.pods.put(pod("web", func(p *workload.Pod) {
		p.Spec.SecurityContext = &corev1.PodSecurityContext{Sysctls: []corev1.Sysctl{{Name: "kernel.msgmax", Value: "65536"}}}
	}))
	h.agent.Notify()
	h.await("web to fail", func() bool { return h.status("web").Phase == workload.PodFailed })
	st := h.status("web")
	if st.Reason != reasonSysctlForbidden || st.Message != `forbidden sysctl: "kernel.msgmax" not allowlisted` {
		t.Errorf("status %+v", st)
	}
	if !h.pods.sawEvent(reasonSysctlForbidden) {
		t.Errorf("no %s event: %q", reasonSysctlForbidden, h.pods.events)
	}
	if sbs, _ := h.rt.ListSandboxes(t.Context()); len(sbs) != 0 {
		t.Errorf("sandboxes created: %+v", sbs)
	}
}
