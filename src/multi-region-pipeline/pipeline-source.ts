import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as pipelines from 'aws-cdk-lib/pipelines';
import { fail, validateLength, validatePattern } from '../private/validation';

/** A CodeConnections connection ARN (also accepted in its older `codestar-connections` form). */
const CONNECTION_ARN = /^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection\/[A-Za-z0-9-]+$/;
/** A repository owner or name on GitHub, GitLab or Bitbucket. */
const REPOSITORY_PART = /^[A-Za-z0-9_.-]+$/;

/** A git repository reached through an AWS CodeConnections connection. */
export interface ConnectionSourceOptions {
  /**
   * ARN of the CodeConnections connection (GitHub, GitHub Enterprise, GitLab or Bitbucket), created
   * and authorized once in the console.
   */
  readonly connectionArn: string;
  /** Owner of the repository (user or organization). */
  readonly owner: string;
  /** Name of the repository. */
  readonly repository: string;
  /** Branch whose every push deploys. */
  readonly branch: string;
}

/**
 * Where the pipeline's GitOps source comes from: every change to it deploys.
 *
 * @example
 * const source = PipelineSource.connection({
 *   connectionArn: 'arn:aws:codeconnections:us-east-1:111111111111:connection/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d',
 *   owner: 'my-org',
 *   repository: 'my-service',
 *   branch: 'main',
 * });
 */
export abstract class PipelineSource {
  /** A git repository through a CodeConnections connection; each push to `branch` starts the pipeline. */
  public static connection(options: ConnectionSourceOptions): PipelineSource {
    validatePattern('PipelineSource.connection() connectionArn', options.connectionArn, CONNECTION_ARN, 'must be a CodeConnections connection ARN (arn:aws:codeconnections:<region>:<account>:connection/<id>)');
    validatePattern('PipelineSource.connection() owner', options.owner, REPOSITORY_PART, 'must be a repository owner: letters, digits, "_", "." and "-"');
    validatePattern('PipelineSource.connection() repository', options.repository, REPOSITORY_PART, 'must be a repository name: letters, digits, "_", "." and "-"');
    validateBranch('PipelineSource.connection() branch', options.branch);
    return new ConnectionSource(options);
  }

  /** A CodeCommit repository; each push to `branch` starts the pipeline (through EventBridge). */
  public static codeCommit(repository: codecommit.IRepository, branch: string): PipelineSource {
    validateBranch('PipelineSource.codeCommit() branch', branch);
    return new CodeCommitSource(repository, branch);
  }

  /**
   * An S3 object (a zip of the repository), in a bucket with versioning; each new version starts
   * the pipeline (through EventBridge; the bucket needs CloudTrail data events or EventBridge
   * notifications, see the CDK Pipelines documentation).
   */
  public static s3(bucket: s3.IBucket, objectKey: string): PipelineSource {
    validateLength('PipelineSource.s3() objectKey', objectKey, 1, 1024);
    if (objectKey.startsWith('/')) fail('PipelineSource.s3() objectKey', 'must not start with "/"', objectKey);
    return new S3Source(bucket, objectKey);
  }

  /** The kind of source, as written in the gitops-config document: `connection`, `codecommit` or `s3`. */
  public abstract readonly sourceType: string;

  /** A human-readable description: `owner/repository@branch`, `repository@branch` or `s3://bucket/key`. */
  public abstract readonly description: string;

  /** @internal */
  public abstract _bind(): pipelines.CodePipelineSource;
}

class ConnectionSource extends PipelineSource {
  public readonly sourceType = 'connection';
  public readonly description: string;
  constructor(private readonly options: ConnectionSourceOptions) {
    super();
    this.description = `${options.owner}/${options.repository}@${options.branch}`;
  }
  public _bind(): pipelines.CodePipelineSource {
    return pipelines.CodePipelineSource.connection(`${this.options.owner}/${this.options.repository}`, this.options.branch, {
      connectionArn: this.options.connectionArn,
      triggerOnPush: true,
    });
  }
}

class CodeCommitSource extends PipelineSource {
  public readonly sourceType = 'codecommit';
  public readonly description: string;
  constructor(private readonly repository: codecommit.IRepository, private readonly branch: string) {
    super();
    this.description = `${repository.repositoryName}@${branch}`;
  }
  public _bind(): pipelines.CodePipelineSource {
    return pipelines.CodePipelineSource.codeCommit(this.repository, this.branch);
  }
}

class S3Source extends PipelineSource {
  public readonly sourceType = 's3';
  public readonly description: string;
  constructor(private readonly bucket: s3.IBucket, private readonly objectKey: string) {
    super();
    this.description = `s3://${bucket.bucketName}/${objectKey}`;
  }
  public _bind(): pipelines.CodePipelineSource {
    return pipelines.CodePipelineSource.s3(this.bucket, this.objectKey);
  }
}

/** git's branch-name rules that matter here: no spaces, no "..", not starting with "-" or "/". */
function validateBranch(prop: string, branch: string): void {
  validatePattern(prop, branch, /^(?!-|\/)(?!.*\.\.)[^\s~^:?*[\\]+(?<!\/|\.lock)$/, 'must be a git branch name (no spaces, "..", "~", "^", ":", "?", "*", "[" or "\\")');
}
