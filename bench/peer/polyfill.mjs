// Node 20 lacks Promise.withResolvers, which PostGraphile v5 (grafast) calls; loaded with `node --import`.
if (typeof Promise.withResolvers !== 'function')
  Promise.withResolvers = function withResolvers() {
    let resolve, reject;
    const promise = new this((a, b) => {
      resolve = a;
      reject = b;
    });
    return { promise, resolve, reject };
  };
