import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as cpactions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as pipelines from 'aws-cdk-lib/pipelines';

/**
 * Internal CDK Pipelines building blocks of the MultiRegionPipeline: a step that runs one of our
 * functions as a Lambda invoke action, and a pipeline that adds V2 stage conditions to the stages
 * CDK Pipelines creates. Not exported from the package.
 */

/** A CDK Pipelines step that becomes a CodePipeline Lambda invoke action. */
export class LambdaInvokeStep extends pipelines.Step implements pipelines.ICodePipelineActionFactory {
  constructor(id: string, private readonly fn: lambda.IFunction, private readonly userParameters: { [key: string]: unknown }) {
    super(id);
  }

  public produceAction(stage: codepipeline.IStage, options: pipelines.ProduceActionOptions): pipelines.CodePipelineActionFactoryResult {
    stage.addAction(new cpactions.LambdaInvokeAction({
      actionName: options.actionName,
      runOrder: options.runOrder,
      lambda: this.fn,
      userParameters: this.userParameters,
      variablesNamespace: options.variablesNamespace,
    }));
    return { runOrdersConsumed: 1 };
  }
}

/** The V2 conditions of one stage. */
export interface StageConditions {
  readonly beforeEntry?: codepipeline.Conditions;
  readonly onSuccess?: codepipeline.Conditions;
  readonly onFailure?: codepipeline.FailureConditions;
}

/**
 * A V2 pipeline that attaches conditions to stages by name as CDK Pipelines creates them. CDK
 * Pipelines adds each wave as `addStage({ stageName })` and offers no way to pass the V2
 * `beforeEntry`/`onSuccess`/`onFailure` props; intercepting `addStage` keeps them in the L2 (rendered
 * and validated by aws-cdk-lib) instead of raw template overrides.
 */
export class ConditionedPipeline extends codepipeline.Pipeline {
  private readonly conditions = new Map<string, StageConditions>();
  private readonly added = new Set<string>();

  constructor(scope: ConstructLike, id: string, props: codepipeline.PipelineProps) {
    super(scope, id, props);
    this.node.addValidation({
      validate: () => [...this.conditions.keys()].filter((name) => !this.added.has(name))
        .map((name) => `stage conditions were set for ${JSON.stringify(name)}, but the pipeline has no stage of that name`),
    });
  }

  /** Conditions for the stage `stageName`; must be set before CDK Pipelines builds the pipeline. */
  public setStageConditions(stageName: string, conditions: StageConditions): void {
    this.conditions.set(stageName, conditions);
  }

  public addStage(props: codepipeline.StageOptions): codepipeline.IStage {
    this.added.add(props.stageName);
    return super.addStage({ ...this.conditions.get(props.stageName), ...props });
  }
}

type ConstructLike = ConstructorParameters<typeof codepipeline.Pipeline>[0];
