package printers

import (
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
)

var (
	jobSpecDoc       = batchv1.JobSpec{}.SwaggerDoc()
	cronJobSpecDoc   = batchv1.CronJobSpec{}.SwaggerDoc()
	cronJobStatusDoc = batchv1.CronJobStatus{}.SwaggerDoc()
)

var jobColumns = []metav1.TableColumnDefinition{
	nameColumn,
	{Name: "Status", Type: "string", Description: "Status of the job."},
	{Name: "Completions", Type: "string", Description: batchv1.JobStatus{}.SwaggerDoc()["succeeded"]},
	{Name: "Duration", Type: "string", Description: "Time required to complete the job."},
	ageColumn,
	containersColumn,
	imagesColumn,
	{Name: "Selector", Type: "string", Priority: 1, Description: jobSpecDoc["selector"]},
}

// kube declares SUSPEND a boolean and sends "True", "False" or "<unset>".
var cronJobColumns = []metav1.TableColumnDefinition{
	nameColumn,
	{Name: "Schedule", Type: "string", Description: cronJobSpecDoc["schedule"]},
	{Name: "Timezone", Type: "string", Description: cronJobSpecDoc["timeZone"]},
	{Name: "Suspend", Type: "boolean", Description: cronJobSpecDoc["suspend"]},
	{Name: "Active", Type: "integer", Description: cronJobStatusDoc["active"]},
	{Name: "Last Schedule", Type: "string", Description: cronJobStatusDoc["lastScheduleTime"]},
	ageColumn,
	containersColumn,
	imagesColumn,
	{Name: "Selector", Type: "string", Priority: 1, Description: jobSpecDoc["selector"]},
}

// jobCells is a job's row: NAME, STATUS, COMPLETIONS, DURATION, AGE,
// CONTAINERS, IMAGES, SELECTOR.
func jobCells(job *batchv1.Job, now time.Time) []any {
	var completions string
	switch {
	case job.Spec.Completions != nil:
		completions = fmt.Sprintf("%d/%d", job.Status.Succeeded, *job.Spec.Completions)
	case job.Spec.Parallelism != nil && *job.Spec.Parallelism > 1:
		completions = fmt.Sprintf("%d/1 of %d", job.Status.Succeeded, *job.Spec.Parallelism)
	default:
		completions = fmt.Sprintf("%d/1", job.Status.Succeeded)
	}
	var took string
	switch {
	case job.Status.StartTime == nil:
	case job.Status.CompletionTime == nil:
		took = duration.HumanDuration(now.Sub(job.Status.StartTime.Time))
	default:
		took = duration.HumanDuration(job.Status.CompletionTime.Sub(job.Status.StartTime.Time))
	}
	names, images := containerCells(job.Spec.Template.Spec.Containers)
	return []any{
		job.Name,
		jobStatus(job),
		completions,
		took,
		age(job.CreationTimestamp, now),
		names,
		images,
		metav1.FormatLabelSelector(job.Spec.Selector),
	}
}

// jobStatus is the STATUS cell, the first that holds of Complete, Failed,
// Terminating (being deleted), Suspended, FailureTarget,
// SuccessCriteriaMet, and else Running.
func jobStatus(job *batchv1.Job) string {
	switch {
	case jobCondition(job, batchv1.JobComplete):
		return "Complete"
	case jobCondition(job, batchv1.JobFailed):
		return "Failed"
	case job.DeletionTimestamp != nil:
		return "Terminating"
	case jobCondition(job, batchv1.JobSuspended):
		return "Suspended"
	case jobCondition(job, batchv1.JobFailureTarget):
		return "FailureTarget"
	case jobCondition(job, batchv1.JobSuccessCriteriaMet):
		return "SuccessCriteriaMet"
	}
	return "Running"
}

// jobCondition reports whether the job's first condition of type t is True.
func jobCondition(job *batchv1.Job, t batchv1.JobConditionType) bool {
	for _, c := range job.Status.Conditions {
		if c.Type == t {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// cronJobCells is a cron job's row: NAME, SCHEDULE, TIMEZONE, SUSPEND,
// ACTIVE, LAST SCHEDULE, AGE, CONTAINERS, IMAGES, SELECTOR.
func cronJobCells(cj *batchv1.CronJob, now time.Time) []any {
	last := "<none>"
	if cj.Status.LastScheduleTime != nil {
		last = age(*cj.Status.LastScheduleTime, now)
	}
	zone := "<none>"
	if cj.Spec.TimeZone != nil {
		zone = *cj.Spec.TimeZone
	}
	tmpl := cj.Spec.JobTemplate.Spec
	names, images := containerCells(tmpl.Template.Spec.Containers)
	return []any{
		cj.Name,
		cj.Spec.Schedule,
		zone,
		boolPointer(cj.Spec.Suspend),
		int64(len(cj.Status.Active)),
		last,
		age(cj.CreationTimestamp, now),
		names,
		images,
		metav1.FormatLabelSelector(tmpl.Selector),
	}
}
