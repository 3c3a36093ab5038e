package printers

import (
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var jobTemplate = corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{
	{Name: "fake-job-container1", Image: "fake-job-image1"},
	{Name: "fake-job-container2", Image: "fake-job-image2"},
}}}

func conditioned(t batchv1.JobConditionType, s corev1.ConditionStatus) batchv1.JobStatus {
	return batchv1.JobStatus{Conditions: []batchv1.JobCondition{{Type: t, Status: s}}}
}

// TestJob follows kube's TestPrintJob and TestPrintJobList.
func TestJob(t *testing.T) {
	justNow := metav1.ObjectMeta{Name: "job", CreationTimestamp: ago(-1900 * time.Millisecond)}
	tests := []struct {
		name string
		job  batchv1.Job
		want []any
	}{
		{"running with completions",
			batchv1.Job{
				ObjectMeta: metav1.ObjectMeta{Name: "job1", CreationTimestamp: ago(-1900 * time.Millisecond)},
				Spec: batchv1.JobSpec{Completions: ptr[int32](2), Template: jobTemplate,
					Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"job-label": "job-label-value"}}},
				Status: batchv1.JobStatus{Succeeded: 1},
			},
			[]any{"job1", "Running", "1/2", "", "0s", "fake-job-container1,fake-job-container2", "fake-job-image1,fake-job-image2", "job-label=job-label-value"}},
		{"ten years old, no completions",
			batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "job2", CreationTimestamp: metav1.NewTime(now.AddDate(-10, 0, 0))}},
			[]any{"job2", "Running", "0/1", "", "10y", "", "", "<none>"}},
		{"finished: duration from start to completion",
			batchv1.Job{
				ObjectMeta: metav1.ObjectMeta{Name: "job3", CreationTimestamp: ago(10 * 365 * day)},
				Status:     batchv1.JobStatus{StartTime: agoPtr(-time.Minute), CompletionTime: agoPtr(-31 * time.Minute)},
			},
			[]any{"job3", "Running", "0/1", "30m", "10y", "", "", "<none>"}},
		{"running: duration so far",
			batchv1.Job{
				ObjectMeta: metav1.ObjectMeta{Name: "job4", CreationTimestamp: ago(10 * 365 * day)},
				Status:     batchv1.JobStatus{StartTime: agoPtr(20 * time.Minute)},
			},
			[]any{"job4", "Running", "0/1", "20m", "10y", "", "", "<none>"}},
		{"parallel without completions",
			batchv1.Job{ObjectMeta: justNow, Spec: batchv1.JobSpec{Parallelism: ptr[int32](3)}, Status: batchv1.JobStatus{Succeeded: 1}},
			[]any{"job", "Running", "1/1 of 3", "", "0s", "", "", "<none>"}},
		{"parallelism one",
			batchv1.Job{ObjectMeta: justNow, Spec: batchv1.JobSpec{Parallelism: ptr[int32](1)}},
			[]any{"job", "Running", "0/1", "", "0s", "", "", "<none>"}},
		{"complete", batchv1.Job{ObjectMeta: justNow, Status: conditioned(batchv1.JobComplete, corev1.ConditionTrue)},
			[]any{"job", "Complete", "0/1", "", "0s", "", "", "<none>"}},
		{"failed", batchv1.Job{ObjectMeta: justNow, Status: conditioned(batchv1.JobFailed, corev1.ConditionTrue)},
			[]any{"job", "Failed", "0/1", "", "0s", "", "", "<none>"}},
		{"suspended", batchv1.Job{ObjectMeta: justNow, Status: conditioned(batchv1.JobSuspended, corev1.ConditionTrue)},
			[]any{"job", "Suspended", "0/1", "", "0s", "", "", "<none>"}},
		{"no longer suspended", batchv1.Job{ObjectMeta: justNow, Status: conditioned(batchv1.JobSuspended, corev1.ConditionFalse)},
			[]any{"job", "Running", "0/1", "", "0s", "", "", "<none>"}},
		{"failure target", batchv1.Job{ObjectMeta: justNow, Status: conditioned(batchv1.JobFailureTarget, corev1.ConditionTrue)},
			[]any{"job", "FailureTarget", "0/1", "", "0s", "", "", "<none>"}},
		{"success criteria met", batchv1.Job{ObjectMeta: justNow, Status: conditioned(batchv1.JobSuccessCriteriaMet, corev1.ConditionTrue)},
			[]any{"job", "SuccessCriteriaMet", "0/1", "", "0s", "", "", "<none>"}},
		{"terminating",
			batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "job9", CreationTimestamp: ago(-1900 * time.Millisecond), DeletionTimestamp: agoPtr(-1900 * time.Millisecond)}},
			[]any{"job9", "Terminating", "0/1", "", "0s", "", "", "<none>"}},
		{"complete wins over terminating",
			batchv1.Job{
				ObjectMeta: metav1.ObjectMeta{Name: "done", DeletionTimestamp: agoPtr(0)},
				Spec:       batchv1.JobSpec{Completions: ptr[int32](1)},
				Status: batchv1.JobStatus{Succeeded: 1, StartTime: agoPtr(3 * time.Minute), CompletionTime: agoPtr(time.Minute),
					Conditions: []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}},
			},
			[]any{"done", "Complete", "1/1", "2m", "<unknown>", "", "", "<none>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkCells(t, &tt.job, tt.want) })
	}
}

// TestCronJob follows kube's TestPrintCronJob and TestPrintCronJobList.
func TestCronJob(t *testing.T) {
	template := batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{
		Completions: ptr[int32](2), Template: jobTemplate,
		Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}},
	}}
	tests := []struct {
		name string
		cj   batchv1.CronJob
		want []any
	}{
		{"scheduled just now",
			batchv1.CronJob{
				ObjectMeta: metav1.ObjectMeta{Name: "cronjob1", CreationTimestamp: ago(-1900 * time.Millisecond)},
				Spec:       batchv1.CronJobSpec{Schedule: "0/5 * * * ?", Suspend: ptr(false), JobTemplate: template},
				Status:     batchv1.CronJobStatus{LastScheduleTime: agoPtr(-1900 * time.Millisecond)},
			},
			[]any{"cronjob1", "0/5 * * * ?", "<none>", "False", int64(0), "0s", "0s", "fake-job-container1,fake-job-container2", "fake-job-image1,fake-job-image2", "a=b"}},
		{"time zone",
			batchv1.CronJob{
				ObjectMeta: metav1.ObjectMeta{Name: "cronjob1", CreationTimestamp: ago(-1900 * time.Millisecond)},
				Spec:       batchv1.CronJobSpec{Schedule: "0/5 * * * ?", TimeZone: ptr("LOCAL"), Suspend: ptr(false), JobTemplate: template},
				Status:     batchv1.CronJobStatus{LastScheduleTime: agoPtr(-1900 * time.Millisecond)},
			},
			[]any{"cronjob1", "0/5 * * * ?", "LOCAL", "False", int64(0), "0s", "0s", "fake-job-container1,fake-job-container2", "fake-job-image1,fake-job-image2", "a=b"}},
		{"last schedule and age",
			batchv1.CronJob{
				ObjectMeta: metav1.ObjectMeta{Name: "cronjob2", CreationTimestamp: ago(5 * time.Minute)},
				Spec:       batchv1.CronJobSpec{Schedule: "0/5 * * * ?", Suspend: ptr(false)},
				Status:     batchv1.CronJobStatus{LastScheduleTime: agoPtr(30 * time.Second)},
			},
			[]any{"cronjob2", "0/5 * * * ?", "<none>", "False", int64(0), "30s", "5m", "", "", "<none>"}},
		{"never scheduled",
			batchv1.CronJob{
				ObjectMeta: metav1.ObjectMeta{Name: "cronjob3", CreationTimestamp: ago(5 * time.Minute)},
				Spec:       batchv1.CronJobSpec{Schedule: "0/5 * * * ?", Suspend: ptr(false)},
			},
			[]any{"cronjob3", "0/5 * * * ?", "<none>", "False", int64(0), "<none>", "5m", "", "", "<none>"}},
		{"suspended with active jobs",
			batchv1.CronJob{
				ObjectMeta: metav1.ObjectMeta{Name: "nightly", CreationTimestamp: ago(20 * time.Minute)},
				Spec:       batchv1.CronJobSpec{Schedule: "@daily", Suspend: ptr(true)},
				Status:     batchv1.CronJobStatus{Active: []corev1.ObjectReference{{Name: "a"}, {Name: "b"}}, LastScheduleTime: agoPtr(20 * time.Minute)},
			},
			[]any{"nightly", "@daily", "<none>", "True", int64(2), "20m", "20m", "", "", "<none>"}},
		{"suspend unset",
			batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: "raw"}, Spec: batchv1.CronJobSpec{Schedule: "* * * * *"}},
			[]any{"raw", "* * * * *", "<none>", "<unset>", int64(0), "<none>", "<unknown>", "", "", "<none>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkCells(t, &tt.cj, tt.want) })
	}
}
