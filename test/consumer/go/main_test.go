// Consumer test of the Go module: synthesizes the app in main.go in-process and checks the
// template. It runs the module that jsii-pacmak wrote to dist/go (through the jsii runtime's
// Node.js child process, `node` on PATH or $JSII_NODE), so it proves that the Go bindings, the
// struct and enum-like class mappings and the bundled Lambda asset work for a Go user.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdk-cross-region-config/cdk-cross-region-config-go/cdkcrossregionconfig"
)

// Errors, throttles, dead letters, replication failures, conflicts (SKIP_AND_ALARM) and full-sync age.
const alarmCount = 6

var (
	stack    *ReplicatedSecretsStack
	template assertions.Template
)

func TestMain(m *testing.M) {
	stack = NewReplicatedSecretsStack(awscdk.NewApp(nil))
	template = assertions.Template_FromStack(stack.Stack, nil)
	code := m.Run()
	jsii.Close() // stops the jsii runtime's Node.js process
	os.Exit(code)
}

// logicalID is the template's logical ID of construct's CloudFormation resource.
func logicalID(t *testing.T, construct constructs.IConstruct) string {
	t.Helper()
	element, ok := construct.Node().DefaultChild().(awscdk.CfnElement)
	if !ok {
		t.Fatalf("the default child of %s is not a CfnElement", *construct.Node().Path())
	}
	return *stack.GetLogicalId(element)
}

func getAtt(id string) map[string]interface{} {
	return map[string]interface{}{"Fn::GetAtt": []interface{}{id, "Arn"}}
}

func TestCreatesTheHandlerWithTheDocumentedDefaults(t *testing.T) {
	template.ResourceCountIs(jsii.String("AWS::Lambda::Function"), jsii.Number(1))
	template.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]interface{}{
		"Runtime":       "nodejs22.x",
		"Architectures": []interface{}{"arm64"},
		"MemorySize":    512,
		"Timeout":       600, // seconds: Duration.minutes(10)
		"TracingConfig": map[string]interface{}{"Mode": "Active"},
		"Environment": map[string]interface{}{"Variables": assertions.Match_ObjectLike(&map[string]interface{}{
			"PRIMARY_REGION":  primaryRegion,
			"CONFLICT_POLICY": "SKIP_AND_ALARM",
		})},
	})
	if got := *stack.Replicator.PrimaryRegion(); got != primaryRegion {
		t.Errorf("PrimaryRegion() = %q, want %q", got, primaryRegion)
	}
	if id := logicalID(t, stack.Replicator.Handler()); !strings.HasPrefix(id, "SecretReplicatorHandler") {
		t.Errorf("the handler's logical ID %q does not start with SecretReplicatorHandler", id)
	}
}

func TestSendsSecretChangesUnderThePrefixToTheHandler(t *testing.T) {
	handlerID := logicalID(t, stack.Replicator.Handler())
	template.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]interface{}{
		"EventPattern": assertions.Match_ObjectLike(&map[string]interface{}{
			"source":      []interface{}{"aws.secretsmanager"},
			"detail-type": []interface{}{"AWS API Call via CloudTrail", "AWS Service Event via CloudTrail"},
		}),
		"Targets": []interface{}{assertions.Match_ObjectLike(&map[string]interface{}{"Arn": getAtt(handlerID)})},
	})

	// The rule is narrowed to the selected name prefix.
	ruleID := logicalID(t, stack.Replicator.Rule())
	resources := (*template.ToJSON())["Resources"].(map[string]interface{})
	pattern, err := json.Marshal(resources[ruleID].(map[string]interface{})["Properties"].(map[string]interface{})["EventPattern"])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(pattern), `{"prefix":"prod/app/"}`) {
		t.Errorf("the event pattern of %s does not match the name prefix prod/app/: %s", ruleID, pattern)
	}
}

func TestReconcilesEverySixHours(t *testing.T) {
	template.ResourceCountIs(jsii.String("AWS::Events::Rule"), jsii.Number(2))
	template.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]interface{}{
		"ScheduleExpression": "rate(6 hours)",
		"Targets": []interface{}{assertions.Match_ObjectLike(&map[string]interface{}{
			"Arn":   getAtt(logicalID(t, stack.Replicator.Handler())),
			"Input": `{"action":"reconcile"}`,
		})},
	})
}

func TestEveryAlarmNotifiesTheTopic(t *testing.T) {
	alarms := *template.FindResources(jsii.String("AWS::CloudWatch::Alarm"), nil)
	if len(alarms) != alarmCount {
		t.Errorf("the template has %d alarms, want %d", len(alarms), alarmCount)
	}
	if got := len(*stack.Replicator.Alarms()); got != alarmCount {
		t.Errorf("Alarms() has %d alarms, want %d", got, alarmCount)
	}
	topicRef := []interface{}{map[string]interface{}{"Ref": logicalID(t, stack.AlarmTopic)}}
	for id, alarm := range alarms {
		actions := (*alarm)["Properties"].(map[string]interface{})["AlarmActions"]
		if !reflect.DeepEqual(actions, topicRef) {
			t.Errorf("alarm %s has AlarmActions %v, want %v", id, actions, topicRef)
		}
	}
	if stack.Replicator.ConflictsAlarm() == nil {
		t.Error("ConflictsAlarm() is nil with ConflictPolicy SKIP_AND_ALARM")
	}
	template.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]interface{}{
		"MetricName": "Conflicts",
		"Threshold":  1,
	})
}

func TestMetricReplicationLatencyPerRegion(t *testing.T) {
	metric := stack.Replicator.MetricReplicationLatency(&cdkcrossregionconfig.ReplicatorMetricOptions{
		ReplicaRegion: jsii.String("eu-west-1"),
	})
	if got := *metric.MetricName(); got != "ReplicationLatency" {
		t.Errorf("MetricName() = %q, want ReplicationLatency", got)
	}
	want := map[string]interface{}{"service": *stack.Replicator.ServiceName(), "ReplicaRegion": "eu-west-1"}
	if got := *metric.Dimensions(); !reflect.DeepEqual(got, want) {
		t.Errorf("Dimensions() = %v, want %v", got, want)
	}
}

func TestFailsIfReplicaRegionsContainsThePrimaryRegion(t *testing.T) {
	primary := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("Primary"), &awscdk.StackProps{
		Env: &awscdk.Environment{Region: jsii.String(primaryRegion)},
	})
	// The jsii runtime turns the JavaScript error into a panic whose message may carry the
	// JavaScript stack trace after the first line.
	message := func() (message string) {
		defer func() { message = fmt.Sprint(recover()) }()
		cdkcrossregionconfig.NewCrossRegionSecretReplicator(primary, jsii.String("Replicator"),
			&cdkcrossregionconfig.CrossRegionSecretReplicatorProps{
				Secrets:        cdkcrossregionconfig.SecretSelection_ByNamePrefix(jsii.String("prod/app/")),
				ReplicaRegions: jsii.Strings("eu-west-1", "us-east-1"),
			})
		return ""
	}()
	want := `Primary/Replicator: replicaRegions must not contain the primary region, but got ["eu-west-1","us-east-1"]`
	if got, _, _ := strings.Cut(message, "\n"); got != want {
		t.Errorf("the constructor panicked with %q, want %q", got, want)
	}
}
