import { Lazy, Token } from 'aws-cdk-lib';
import { bindParameterOverrides, ParameterOverride } from '../../src/core/parameter-override';

const REPLICAS = ['eu-west-1', 'ap-southeast-2'];

describe('ParameterOverride.forRegion', () => {
  test('applies to its region only', () => {
    const override = ParameterOverride.forRegion('/app/ami', 'eu-west-1', 'ami-0123456789abcdef0');
    expect(override.parameterName).toBe('/app/ami');
    expect(bindParameterOverrides('overrides', [override], REPLICAS)).toEqual([
      { name: '/app/ami', region: 'eu-west-1', value: 'ami-0123456789abcdef0' },
    ]);
  });

  test('accepts names without a hierarchy and values of exactly 8192 bytes', () => {
    const value = 'é'.repeat(4096); // 2 bytes each in UTF-8
    expect(bindParameterOverrides('overrides', [ParameterOverride.forRegion('flat-name', 'eu-west-1', value)], REPLICAS)[0].value).toBe(value);
  });
});

describe('ParameterOverride.template', () => {
  test('renders {region} (every occurrence) for every replica region, in replica order', () => {
    const override = ParameterOverride.template('/app/endpoint', 'https://{region}.example.com/{region}');
    expect(bindParameterOverrides('overrides', [override], REPLICAS)).toEqual([
      { name: '/app/endpoint', region: 'eu-west-1', value: 'https://eu-west-1.example.com/eu-west-1' },
      { name: '/app/endpoint', region: 'ap-southeast-2', value: 'https://ap-southeast-2.example.com/ap-southeast-2' },
    ]);
  });

  test('binds to nothing without replica regions', () => {
    expect(bindParameterOverrides('overrides', [ParameterOverride.template('/app/x', '{region}')], [])).toEqual([]);
  });
});

describe('bindParameterOverrides', () => {
  test('no overrides (undefined or empty) bind to an empty list', () => {
    expect(bindParameterOverrides('overrides', undefined, REPLICAS)).toEqual([]);
    expect(bindParameterOverrides('overrides', [], REPLICAS)).toEqual([]);
  });

  test('a fixed value and a template for different regions of one parameter do not collide', () => {
    const configs = bindParameterOverrides('overrides', [
      ParameterOverride.forRegion('/app/x', 'eu-west-1', 'fixed'),
      ParameterOverride.forRegion('/app/x', 'ap-southeast-2', 'other'),
    ], REPLICAS);
    expect(configs.map((c) => `${c.region}=${c.value}`)).toEqual(['eu-west-1=fixed', 'ap-southeast-2=other']);
  });

  test('an invariant over random declarations: one config per declared (parameter, region), each rendered for its region', () => {
    // Seeded so a failure can be replayed: the seed is printed with the failing case.
    const seed = Number(process.env.PARAMETER_OVERRIDE_SEED ?? 20261207);
    let state = seed;
    const random = (n: number) => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state % n;
    };
    const regions = ['eu-west-1', 'eu-central-1', 'ap-southeast-2', 'us-west-2'];
    for (let run = 0; run < 200; run++) {
      const replicas = regions.filter(() => random(2) === 0);
      const overrides: ParameterOverride[] = [];
      const expected = new Map<string, string>();
      for (let p = 0; p < 5; p++) {
        const name = `/app/p${p}`;
        if (random(3) === 0 && replicas.length > 0) {
          overrides.push(ParameterOverride.template(name, `v-{region}-${p}`));
          for (const r of replicas) expected.set(`${name} ${r}`, `v-${r}-${p}`);
        } else {
          for (const r of replicas.filter(() => random(2) === 0)) {
            overrides.push(ParameterOverride.forRegion(name, r, `fixed-${p}-${r}`));
            expected.set(`${name} ${r}`, `fixed-${p}-${r}`);
          }
        }
      }
      const bound = bindParameterOverrides('overrides', overrides, replicas);
      const actual = new Map(bound.map((c) => [`${c.name} ${c.region}`, c.value]));
      if (bound.length !== actual.size || JSON.stringify([...actual].sort()) !== JSON.stringify([...expected].sort())) {
        throw new Error(`PARAMETER_OVERRIDE_SEED=${seed} run ${run}: bound ${JSON.stringify(bound)}, expected ${JSON.stringify([...expected])}`);
      }
    }
  });
});

describe('fails if', () => {
  test.each<[string, () => unknown, string]>([
    ['forRegion names a region that is not a replica region',
      () => bindParameterOverrides('overrides', [ParameterOverride.forRegion('/app/x', 'us-west-2', 'v')], REPLICAS),
      'overrides (parameter /app/x) must name one of the replica regions eu-west-1, ap-southeast-2, but got "us-west-2"'],
    ['two overrides declare the same parameter and region',
      () => bindParameterOverrides('overrides', [ParameterOverride.forRegion('/app/x', 'eu-west-1', 'a'), ParameterOverride.template('/app/x', 'b-{region}')], REPLICAS),
      'overrides must declare at most one value per parameter and region, but got "/app/x in eu-west-1 twice"'],
    ['a rendered template is longer than 8192 bytes',
      () => bindParameterOverrides('overrides', [ParameterOverride.template('/app/x', `${'a'.repeat(8182)}{region}`)], REPLICAS),
      'overrides (parameter /app/x, region ap-southeast-2) must be 1 to 8192 bytes (the Advanced tier\'s limit), but got "8196 bytes"'],
    ['forRegion names no region', () => ParameterOverride.forRegion('/app/x', 'mars', 'v'),
      'ParameterOverride.forRegion region must be a region name such as eu-west-1 (not a token), but got "mars"'],
    ['forRegion region is a token', () => ParameterOverride.forRegion('/app/x', Lazy.string({ produce: () => 'eu-west-1' }), 'v'),
      'ParameterOverride.forRegion region must be a region name such as eu-west-1 (not a token), but got'],
    ['forRegion value is empty', () => ParameterOverride.forRegion('/app/x', 'eu-west-1', ''),
      'ParameterOverride.forRegion value must be 1 to 8192 bytes (the Advanced tier\'s limit), but got "0 bytes"'],
    ['forRegion value is longer than 8192 bytes', () => ParameterOverride.forRegion('/app/x', 'eu-west-1', 'é'.repeat(4097)),
      'ParameterOverride.forRegion value must be 1 to 8192 bytes (the Advanced tier\'s limit), but got "8194 bytes"'],
    ['the value is a token', () => ParameterOverride.forRegion('/app/x', 'eu-west-1', Token.asString({ Ref: 'X' })),
      'ParameterOverride.forRegion value must be a literal value (not a token): the handlers compare it at run time, but got'],
    ['a template has no {region}', () => ParameterOverride.template('/app/x', 'https://api.example.com'),
      'ParameterOverride.template template must contain {region} (for one fixed value per region use ParameterOverride.forRegion), but got "https://api.example.com"'],
    ['the name is a token', () => ParameterOverride.template(Token.asString({ Ref: 'X' }), '{region}'),
      'ParameterOverride parameterName must be a literal parameter name (not a token), but got'],
    ['the name has a character Parameter Store rejects', () => ParameterOverride.template('/app/x y', '{region}'),
      'ParameterOverride parameterName must be a Parameter Store name: 1 to 2048 of a-z A-Z 0-9 _ . - /, not starting with aws or ssm, but got "/app/x y"'],
    ['the name starts with aws', () => ParameterOverride.template('/aws/service/x', '{region}'),
      'ParameterOverride parameterName must be a Parameter Store name: 1 to 2048 of a-z A-Z 0-9 _ . - /, not starting with aws or ssm, but got "/aws/service/x"'],
    ['the name starts with SSM in any case', () => ParameterOverride.template('SSM-param', '{region}'),
      'ParameterOverride parameterName must be a Parameter Store name: 1 to 2048 of a-z A-Z 0-9 _ . - /, not starting with aws or ssm, but got "SSM-param"'],
    ['a hierarchical name does not start with a slash', () => ParameterOverride.template('app/x', '{region}'),
      'ParameterOverride parameterName must be fully qualified when hierarchical: start with "/", with no empty level and no trailing "/", but got "app/x"'],
    ['a hierarchical name ends with a slash', () => ParameterOverride.template('/app/x/', '{region}'),
      'ParameterOverride parameterName must be fully qualified when hierarchical: start with "/", with no empty level and no trailing "/", but got "/app/x/"'],
    ['a hierarchical name has an empty level', () => ParameterOverride.template('/app//x', '{region}'),
      'ParameterOverride parameterName must be fully qualified when hierarchical: start with "/", with no empty level and no trailing "/", but got "/app//x"'],
    ['a name is deeper than 15 levels', () => ParameterOverride.template(`/${Array.from({ length: 16 }, (_, i) => `l${i}`).join('/')}`, '{region}'),
      'ParameterOverride parameterName must have at most 15 levels, but got "/l0/l1/l2/l3/l4/l5/l6/l7/l8/l9/l10/l11/l12/l13/l14/l15"'],
    ['a name is under the settings-document root', () => ParameterOverride.template('/cdk-cross-region-config/x', '{region}'),
      'ParameterOverride parameterName must not be under "/cdk-cross-region-config", where the library keeps its handlers\' settings documents, but got "/cdk-cross-region-config/x"'],
  ])('%s', (_name, build, message) => {
    expect(build).toThrow(message);
  });

  test('15 levels are accepted', () => {
    expect(() => ParameterOverride.template(`/${Array.from({ length: 15 }, (_, i) => `l${i}`).join('/')}`, '{region}')).not.toThrow();
  });
});
