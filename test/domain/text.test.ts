import { MAX_NESTING, unstorableTextIssues, unstorableTextReason } from '../../domain/text';

describe('text that can be stored', () => {
  test.each([
    ['plain words', 'the label was wrong, not the fabric'],
    ['Chinese and emoji (a surrogate pair)', '杭州示例电子商务有限公司 😀'],
    ['tab, newline and carriage return', 'line one\r\n\tline two'],
    ['the last character before C0 ends', ' '],
    ['the first character after C1 ends', '\u00A0'],
    ['empty', ''],
  ])('%s is accepted', (_name, text) => {
    expect(unstorableTextReason(text)).toBeUndefined();
  });

  test.each([
    ['NUL', 'a\u0000b', 'a NUL byte (U+0000 at position 1)'],
    ['BEL', '\u0007', 'a control character (U+0007 at position 0)'],
    ['vertical tab', 'x\u000B', 'a control character (U+000B at position 1)'],
    ['unit separator, the last C0', '\u001F', 'a control character (U+001F at position 0)'],
    ['DEL', '\u007F', 'a control character (U+007F at position 0)'],
    ['the last C1', '\u009F', 'a control character (U+009F at position 0)'],
    ['a lone high surrogate', 'ok\uD83D', 'a lone surrogate (U+D83D at position 2)'],
    ['a lone low surrogate', '\uDE00ok', 'a lone surrogate (U+DE00 at position 0)'],
    ['two high surrogates', '\uD83D\uD83D\uDE00', 'a lone surrogate (U+D83D at position 0)'],
  ])('%s is refused, named without quoting the text', (_name, text, named) => {
    expect(unstorableTextReason(text)).toBe(`contains ${named} that cannot be stored`);
  });

  test('every string in a nested value is checked and named by its path; keys too', () => {
    const issues = unstorableTextIssues({
      statement: 'fine',
      evidence: { summary: 'bad\u0000', productIds: ['p-1', 'p\uD800'] },
      'k\u0000': 'v',
      amountFen: 100,
      note: null,
    });
    expect(issues.map((i) => i.path)).toEqual(['evidence.summary', 'evidence.productIds.1', '(key)']);
    expect(unstorableTextIssues('\u0000')).toEqual([{ path: '(root)', message: expect.stringContaining('NUL') }]);
  });

  test('a value nested deeper than a request can mean is one issue at the depth limit, not a crash', () => {
    const nest = (depth: number): unknown => {
      let value: unknown = 'leaf';
      for (let i = 0; i < depth; i += 1) value = [value];
      return value;
    };
    expect(unstorableTextIssues(nest(MAX_NESTING))).toEqual([]);
    const tooDeep = unstorableTextIssues(nest(MAX_NESTING + 1));
    expect(tooDeep).toEqual([{ path: Array(MAX_NESTING).fill('0').join('.'), message: `is nested deeper than ${MAX_NESTING} levels` }]);
    // Deep enough to overflow the stack of a recursive walk.
    expect(unstorableTextIssues(nest(50_000))).toHaveLength(1);
  });
});
