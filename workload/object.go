package workload

var (
	_ Object = (*Namespace)(nil)
	_ Object = (*ConfigMap)(nil)
	_ Object = (*Pod)(nil)
	_ Object = (*Node)(nil)
	_ Object = (*Event)(nil)
)
