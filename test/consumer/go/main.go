// Command consumer is a CDK app in Go: it replicates the prod/app/ secrets of us-east-1 to two
// regions. It mirrors test/consumer/python/app.py, with the Go module that jsii-pacmak writes to
// dist/go (go.mod replaces the published module path with that directory).
//
// main_test.go synthesizes it in-process and checks the template; `go run .` synthesizes it to
// cdk.out.
package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdk-cross-region-config/cdk-cross-region-config-go/cdkcrossregionconfig"
)

const (
	primaryRegion   = "us-east-1"
	account         = "111122223333"
	parameterPrefix = "/payments/production"
)

var replicaRegions = []string{"eu-west-1", "ap-southeast-2"}

// ReplicatedSecretsStack is the primary-region stack: the replicator and the topic its alarms notify.
type ReplicatedSecretsStack struct {
	awscdk.Stack
	AlarmTopic awssns.Topic
	Replicator cdkcrossregionconfig.CrossRegionSecretReplicator
}

// NewReplicatedSecretsStack adds the stack to app.
func NewReplicatedSecretsStack(app constructs.Construct) *ReplicatedSecretsStack {
	stack := awscdk.NewStack(app, jsii.String("ReplicatedSecrets"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String(account), Region: jsii.String(primaryRegion)},
	})

	alarmTopic := awssns.NewTopic(stack, jsii.String("AlarmTopic"), &awssns.TopicProps{
		DisplayName: jsii.String("Secret replication alarms"),
	})

	replicator := cdkcrossregionconfig.NewCrossRegionSecretReplicator(stack, jsii.String("SecretReplicator"),
		&cdkcrossregionconfig.CrossRegionSecretReplicatorProps{
			Secrets:        cdkcrossregionconfig.SecretSelection_ByNamePrefix(jsii.String("prod/app/")),
			ReplicaRegions: jsii.Strings(replicaRegions...),
			// Ireland's replicas use the customer managed key alias/prod-secrets; Sydney's use aws/secretsmanager.
			ReplicaKmsKeys: &[]*cdkcrossregionconfig.ReplicaKmsKey{
				{Region: jsii.String("eu-west-1"), AliasName: jsii.String("alias/prod-secrets")},
			},
			ConflictPolicy:  cdkcrossregionconfig.ConflictPolicy_SKIP_AND_ALARM(),
			ParameterPrefix: jsii.String(parameterPrefix),
			AlarmActions:    &[]awscloudwatch.IAlarmAction{awscloudwatchactions.NewSnsAction(alarmTopic)},
		})

	return &ReplicatedSecretsStack{Stack: stack, AlarmTopic: alarmTopic, Replicator: replicator}
}

func main() {
	defer jsii.Close()

	app := awscdk.NewApp(nil)
	NewReplicatedSecretsStack(app)
	app.Synth(nil)
}
